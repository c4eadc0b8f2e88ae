import Foundation
import Plotting
import Testing

@Suite("Raster images and PNG")
struct RasterImageTests {
    @Test("gray PNG reads back exactly")
    func grayRoundTrip() throws {
        let folder = try TemporaryFolder()
        let path = folder.path + "/gray.png"
        let pixels = (0..<35).map { UInt8(($0 * 37) % 256) }
        let image = RasterImage(width: 7, height: 5, format: .gray, pixels: pixels)
        try image.writePNG(to: path)
        let decoded = try decodePNG(file: path)
        #expect(decoded == image)
        #expect(try folder.fileNames() == ["gray.png"])
    }

    @Test("PNG write removes dead writers' temporaries")
    func staleTemporaries() throws {
        let folder = try TemporaryFolder()
        // Process ids above the kernel's pid_max (at most 2^22) never exist; pid 1 always does.
        let stale = ".gray.png.2147483000.7.tmp"
        let live = ".gray.png.1.8.tmp"
        let otherTarget = ".other.png.2147483000.9.tmp"
        for name in [stale, live, otherTarget] {
            try Data([1]).write(to: URL(fileURLWithPath: folder.path + "/" + name))
        }
        try RasterImage(width: 1, height: 1, format: .gray, pixels: [0]).writePNG(to: folder.path + "/gray.png")
        #expect(try folder.fileNames() == [live, otherTarget, "gray.png"].sorted())
    }

    @Test("RGB PNG reads back exactly")
    func rgbRoundTrip() throws {
        let folder = try TemporaryFolder()
        let path = folder.path + "/colour.png"
        let pixels: [UInt8] = (0..<36).map { (i: Int) -> UInt8 in UInt8(255 - (i * 11) % 256) }
        let image = RasterImage(width: 4, height: 3, format: .rgb, pixels: pixels)
        try image.writePNG(to: path)
        #expect(try decodePNG(file: path) == image)
        #expect(try decodePNG(bytes: image.pngData()) == image)
    }

    @Test("grayscale maps the range onto 0...255")
    func grayscaleMapping() {
        let values: [Double] = [0, 0.5, 1, .nan, -.infinity, .infinity, 2, -1]
        let image = RasterImage(grayscale: values, width: 4, height: 2, range: 0...1)
        // 0.5 × 255 = 127.5 rounds to 128; out-of-range values clamp.
        #expect(image.pixels == [0, 128, 255, 0, 0, 255, 255, 0])
        let inverted = RasterImage(grayscale: values, width: 4, height: 2, range: 0...1, inverted: true)
        #expect(inverted.pixels == [255, 127, 0, 255, 255, 0, 0, 255])
    }

    @Test("grayscale without range uses the finite extremes")
    func grayscaleAutomaticRange() {
        let image = RasterImage(grayscale: [2, 4, .nan, 6], width: 2, height: 2)
        #expect(image.pixels == [0, 128, 0, 255])
        let constant = RasterImage(grayscale: [5, 5], width: 2, height: 1)
        #expect(constant.pixels == [0, 0])
    }

    @Test("viridis heatmap hits its control points")
    func heatmapColours() {
        let image = RasterImage(heatmap: [0, 0.5, 1, .nan], width: 4, height: 1, range: 0...1, nanColor: .black)
        #expect(image.color(x: 0, y: 0) == RGBColor(hex: 0x440154))
        // 0.5 lands on table entry 128, 0.0020 past the control point 0x21908C, which
        // moves no channel by half a level.
        #expect(image.color(x: 1, y: 0) == RGBColor(hex: 0x21908C))
        #expect(image.color(x: 2, y: 0) == RGBColor(hex: 0xFDE725))
        #expect(image.color(x: 3, y: 0) == .black)
    }

    @Test("colour map interpolates linearly")
    func colorMapInterpolation() {
        let map = ColorMap(positions: [0, 0.25, 1], colors: [.black, RGBColor(red: 100, green: 0, blue: 200), .white])
        #expect(map.color(at: 0.125) == RGBColor(red: 50, green: 0, blue: 100))
        // Three quarters of the way from 0.25 to 1 on the second segment: 100 + 155 × 2/3.
        #expect(map.color(at: 0.75) == RGBColor(red: 203, green: 170, blue: 237))
        #expect(map.color(at: -3) == .black)
        #expect(map.color(at: 7) == .white)
        #expect(ColorMap.grayscale.color(at: 0.5) == RGBColor(red: 128, green: 128, blue: 128))
    }

    @Test("upscaling repeats pixels")
    func upscaling() {
        let image = RasterImage(width: 2, height: 1, format: .gray, pixels: [10, 20]).upscaled(by: 2)
        #expect(image.width == 4)
        #expect(image.height == 2)
        #expect(image.pixels == [10, 10, 20, 20, 10, 10, 20, 20])
    }

    @Test("grid tiles images with spacing")
    func gridLayout() {
        let a = RasterImage(width: 2, height: 2, format: .gray, pixels: [1, 2, 3, 4])
        let b = RasterImage(width: 2, height: 2, format: .gray, pixels: [5, 6, 7, 8])
        let grid = RasterImage.grid([a, b], columns: 2, spacing: 1, background: .white)
        #expect(grid.width == 7)
        #expect(grid.height == 4)
        #expect(grid.format == .gray)
        #expect(grid.pixels == [
            255, 255, 255, 255, 255, 255, 255,
            255, 1, 2, 255, 5, 6, 255,
            255, 3, 4, 255, 7, 8, 255,
            255, 255, 255, 255, 255, 255, 255,
        ])
    }

    @Test("grid with a colour image is RGB")
    func gridMixedFormats() {
        let gray = RasterImage(width: 1, height: 1, format: .gray, pixels: [9])
        let colour = RasterImage(width: 1, height: 1, format: .rgb, pixels: [1, 2, 3])
        let grid = RasterImage.grid([gray, colour], columns: 1, spacing: 0)
        #expect(grid.format == .rgb)
        #expect(grid.pixels == [9, 9, 9, 1, 2, 3])
    }

    @Test("text draws the glyph pixels")
    func bitmapText() {
        var image = RasterImage(width: 5, height: 7, format: .gray, fill: .white)
        image.drawText("7", x: 0, y: 0)
        let expected = [
            "#####",
            "....#",
            "...#.",
            "..#..",
            ".#...",
            ".#...",
            ".#...",
        ]
        let drawn = (0..<7).map { y in
            String((0..<5).map { x in image.color(x: x, y: y) == .black ? "#" : "." })
        }
        #expect(drawn == expected)
        #expect(BitmapFont.width(of: "step 10") == 41)
    }

    @Test("grid titles sit above the images")
    func gridTitles() {
        let digit = RasterImage(width: 11, height: 3, format: .gray, fill: .gray)
        let grid = RasterImage.grid([digit], columns: 1, spacing: 0, titles: ["T1"])
        // A 9-pixel title band (7 font rows and 2 blank) above the 3 image rows.
        #expect(grid.height == 12)
        // "T1" is 11 pixels wide; the T's top bar fills columns 0-4 of row 0.
        #expect((0..<5).allSatisfy { grid.color(x: $0, y: 0) == .black })
        #expect(grid.color(x: 5, y: 0) == .white)
        #expect(grid.color(x: 0, y: 9) == .gray)
    }

    @Test("libpng error names the file")
    func libpngError() throws {
        let folder = try TemporaryFolder()
        let path = folder.path + "/too-wide.png"
        // libpng 1.6 rejects widths above its user limit of 1,000,000 pixels.
        let image = RasterImage(width: 1_000_001, height: 1, format: .gray, fill: .black)
        #expect {
            try image.writePNG(to: path)
        } throws: { error in
            guard case .pngEncodingFailed(path?, let message)? = error as? PlottingError else { return false }
            return path.hasSuffix("too-wide.png") && !message.isEmpty
                && "\(error)".contains("'\(path)'")
        }
        #expect(try folder.fileNames().isEmpty)
    }

    @Test("unwritable path throws with the path")
    func unwritablePath() throws {
        let folder = try TemporaryFolder()
        // A regular file where the folder should be: fails for root too.
        let blocker = folder.path + "/not-a-folder"
        try Data([1]).write(to: URL(fileURLWithPath: blocker))
        let path = blocker + "/digits.png"
        let image = RasterImage(width: 1, height: 1, format: .gray, pixels: [0])
        #expect {
            try image.writePNG(to: path)
        } throws: { error in
            let message = "\(error)"
            return message.contains("'\(path)'") && message.contains("Not a directory")
        }
    }

    @Test("failed rename leaves no temporary file")
    func failedRenameCleansUp() throws {
        let folder = try TemporaryFolder()
        let path = folder.path + "/taken"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        let image = RasterImage(width: 1, height: 1, format: .gray, pixels: [0])
        #expect {
            try image.writePNG(to: path)
        } throws: { error in
            "\(error)".contains("'\(path)'") && "\(error)".contains("renaming")
        }
        #expect(try folder.fileNames() == ["taken"])
    }

    @Test("writing replaces an existing file")
    func replacesExistingFile() throws {
        let folder = try TemporaryFolder()
        let path = folder.path + "/picture.png"
        try RasterImage(width: 2, height: 2, format: .gray, fill: .black).writePNG(to: path)
        let second = RasterImage(width: 3, height: 1, format: .rgb, fill: RGBColor(hex: 0x123456))
        try second.writePNG(to: path)
        #expect(try decodePNG(file: path) == second)
        #expect(try folder.fileNames() == ["picture.png"])
    }
}
