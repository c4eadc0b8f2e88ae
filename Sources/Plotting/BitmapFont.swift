/// A 5×7 pixel font for labels drawn into raster images, such as the step numbers over
/// density panels.
///
/// It covers the digits, the letters A–Z (lower case draws as upper case), space and
/// `. , : ; - + = / ( ) % _ ? ! ' < > [ ] * #`. Any other character draws as `?`. Each glyph
/// advances 6 pixels, so a scale-1 label is 6 pixels per character wide and 7 tall. The
/// glyphs were drawn for this project.
public enum BitmapFont {
    public static let glyphWidth = 5
    public static let glyphHeight = 7
    /// The horizontal distance from one glyph to the next, in pixels at scale 1.
    public static let advance = 6

    /// Returns the width in pixels of `text` at `scale`, without trailing space.
    public static func width(of text: String, scale: Int = 1) -> Int {
        text.isEmpty ? 0 : ((text.count - 1) * advance + glyphWidth) * scale
    }

    /// Returns the rows of the glyph for `character`, top first. Bit 4 is the leftmost column.
    static func rows(for character: Character) -> [UInt8] {
        let key = Character(character.uppercased())
        return glyphs[key] ?? glyphs["?"]!
    }

    /// Each glyph as seven rows of five cells, `#` set and `.` clear, separated by spaces.
    private static let patterns: [Character: String] = [
        "0": ".###. #...# #..## #.#.# ##..# #...# .###.",
        "1": "..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.",
        "2": ".###. #...# ....# ...#. ..#.. .#... #####",
        "3": "####. ....# ....# .###. ....# ....# ####.",
        "4": "...#. ..##. .#.#. #..#. ##### ...#. ...#.",
        "5": "##### #.... ####. ....# ....# #...# .###.",
        "6": "..##. .#... #.... ####. #...# #...# .###.",
        "7": "##### ....# ...#. ..#.. .#... .#... .#...",
        "8": ".###. #...# #...# .###. #...# #...# .###.",
        "9": ".###. #...# #...# .#### ....# ...#. .##..",
        "A": ".###. #...# #...# ##### #...# #...# #...#",
        "B": "####. #...# #...# ####. #...# #...# ####.",
        "C": ".###. #...# #.... #.... #.... #...# .###.",
        "D": "###.. #..#. #...# #...# #...# #..#. ###..",
        "E": "##### #.... #.... ####. #.... #.... #####",
        "F": "##### #.... #.... ####. #.... #.... #....",
        "G": ".###. #...# #.... #.### #...# #...# .####",
        "H": "#...# #...# #...# ##### #...# #...# #...#",
        "I": ".###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.",
        "J": "..### ...#. ...#. ...#. ...#. #..#. .##..",
        "K": "#...# #..#. #.#.. ##... #.#.. #..#. #...#",
        "L": "#.... #.... #.... #.... #.... #.... #####",
        "M": "#...# ##.## #.#.# #.#.# #...# #...# #...#",
        "N": "#...# #...# ##..# #.#.# #..## #...# #...#",
        "O": ".###. #...# #...# #...# #...# #...# .###.",
        "P": "####. #...# #...# ####. #.... #.... #....",
        "Q": ".###. #...# #...# #...# #.#.# #..#. .##.#",
        "R": "####. #...# #...# ####. #.#.. #..#. #...#",
        "S": ".#### #.... #.... .###. ....# ....# ####.",
        "T": "##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..",
        "U": "#...# #...# #...# #...# #...# #...# .###.",
        "V": "#...# #...# #...# #...# #...# .#.#. ..#..",
        "W": "#...# #...# #...# #.#.# #.#.# #.#.# .#.#.",
        "X": "#...# #...# .#.#. ..#.. .#.#. #...# #...#",
        "Y": "#...# #...# .#.#. ..#.. ..#.. ..#.. ..#..",
        "Z": "##### ....# ...#. ..#.. .#... #.... #####",
        " ": "..... ..... ..... ..... ..... ..... .....",
        ".": "..... ..... ..... ..... ..... .##.. .##..",
        ",": "..... ..... ..... ..... .##.. ..#.. .#...",
        ":": "..... .##.. .##.. ..... .##.. .##.. .....",
        ";": "..... .##.. .##.. ..... .##.. ..#.. .#...",
        "-": "..... ..... ..... ##### ..... ..... .....",
        "+": "..... ..#.. ..#.. ##### ..#.. ..#.. .....",
        "=": "..... ..... ##### ..... ##### ..... .....",
        "/": "..... ....# ...#. ..#.. .#... #.... .....",
        "(": "...#. ..#.. .#... .#... .#... ..#.. ...#.",
        ")": ".#... ..#.. ...#. ...#. ...#. ..#.. .#...",
        "%": "##... ##..# ...#. ..#.. .#... #..## ...##",
        "_": "..... ..... ..... ..... ..... ..... #####",
        "?": ".###. #...# ....# ...#. ..#.. ..... ..#..",
        "!": "..#.. ..#.. ..#.. ..#.. ..#.. ..... ..#..",
        "'": "..#.. ..#.. .#... ..... ..... ..... .....",
        "<": "...#. ..#.. .#... #.... .#... ..#.. ...#.",
        ">": ".#... ..#.. ...#. ....# ...#. ..#.. .#...",
        "[": ".###. .#... .#... .#... .#... .#... .###.",
        "]": ".###. ...#. ...#. ...#. ...#. ...#. .###.",
        "*": "..... ..#.. #.#.# .###. #.#.# ..#.. .....",
        "#": ".#.#. .#.#. ##### .#.#. ##### .#.#. .#.#.",
    ]

    private static let glyphs: [Character: [UInt8]] = patterns.mapValues { pattern in
        pattern.split(separator: " ").map { row in
            row.reduce(UInt8(0)) { bits, cell in (bits << 1) | (cell == "#" ? 1 : 0) }
        }
    }
}

extension RasterImage {
    /// Draws `text` in the built-in 5×7 font with its top-left corner at `(x, y)`.
    ///
    /// Each font pixel becomes a `scale`×`scale` square. Parts outside the image are cut off.
    public mutating func drawText(_ text: String, x: Int, y: Int, scale: Int = 1, color: RGBColor = .black) {
        precondition(scale >= 1, "RasterImage.drawText: scale must be at least 1, got \(scale)")
        for (index, character) in text.enumerated() {
            let glyphLeft = x + index * BitmapFont.advance * scale
            for (row, bits) in BitmapFont.rows(for: character).enumerated() {
                for column in 0..<BitmapFont.glyphWidth where bits & (0x10 >> column) != 0 {
                    fillSquare(x: glyphLeft + column * scale, y: y + row * scale, size: scale, color: color)
                }
            }
        }
    }

    private mutating func fillSquare(x: Int, y: Int, size: Int, color: RGBColor) {
        for py in max(0, y)..<max(0, min(height, y + size)) {
            for px in max(0, x)..<max(0, min(width, x + size)) {
                setColor(color, x: px, y: py)
            }
        }
    }
}
