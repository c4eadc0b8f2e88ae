import Foundation
#if canImport(FoundationXML)
    import FoundationXML
#endif

/// One element of a parsed SVG document.
struct SVGElement {
    var name: String
    var attributes: [String: String]
    var text: String
}

/// An SVG document parsed back with Foundation's `XMLParser`, to test the writer's output.
final class SVGInspector: NSObject, XMLParserDelegate {
    private(set) var elements: [SVGElement] = []
    private(set) var parseError: String?
    private var openElements: [Int] = []

    /// Parses `svg`; `parseError` is set when the document is not well-formed XML.
    init(_ svg: String) {
        super.init()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = self
        if !parser.parse() {
            parseError = parser.parserError.map { "\($0)" } ?? "unknown parse error"
        }
    }

    var isWellFormed: Bool { parseError == nil }

    func elements(named name: String, class cssClass: String? = nil) -> [SVGElement] {
        elements.filter { element in
            element.name == name && (cssClass == nil || element.attributes["class"] == cssClass)
        }
    }

    func elements(class cssClass: String) -> [SVGElement] {
        elements.filter { $0.attributes["class"] == cssClass }
    }

    func texts(class cssClass: String) -> [String] {
        elements(named: "text", class: cssClass).map(\.text)
    }

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
        qualifiedName: String?, attributes: [String: String] = [:]
    ) {
        openElements.append(elements.count)
        elements.append(SVGElement(name: elementName, attributes: attributes, text: ""))
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if let index = openElements.last { elements[index].text += string }
    }

    func parser(
        _ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?
    ) {
        openElements.removeLast()
    }
}
