extension RasterImage {
    /// Tiles images into one picture, row by row, `columns` to a row, such as 8×8 MNIST
    /// digits or density panels side by side.
    ///
    /// Every cell has the size of the largest image, and smaller images sit centred in their
    /// cell. The result is RGB when any image is RGB, and gray otherwise.
    ///
    /// - Parameters:
    ///   - spacing: Pixels of `background` around and between the cells.
    ///   - titles: One label per image, drawn above it in the built-in 5×7 font
    ///     (`BitmapFont`), cut to the cell width; `nil` for no title band.
    ///   - titleScale: The size of each font pixel in image pixels.
    public static func grid(
        _ images: [RasterImage], columns: Int, spacing: Int = 2, background: RGBColor = .white,
        titles: [String]? = nil, titleScale: Int = 1, titleColor: RGBColor = .black
    ) -> RasterImage {
        precondition(!images.isEmpty, "RasterImage.grid: needs at least one image")
        precondition(columns >= 1, "RasterImage.grid: columns must be at least 1, got \(columns)")
        precondition(spacing >= 0, "RasterImage.grid: spacing must be non-negative, got \(spacing)")
        precondition(titleScale >= 1, "RasterImage.grid: titleScale must be at least 1, got \(titleScale)")
        if let titles {
            precondition(
                titles.count == images.count,
                "RasterImage.grid: got \(titles.count) titles for \(images.count) images")
        }

        let format: PixelFormat = images.contains { $0.format == .rgb } ? .rgb : .gray
        let cellWidth = images.map(\.width).max()!
        let cellHeight = images.map(\.height).max()!
        let titleHeight = titles == nil ? 0 : BitmapFont.glyphHeight * titleScale + 2
        let usedColumns = min(columns, images.count)
        let rows = (images.count + columns - 1) / columns
        let width = usedColumns * cellWidth + (usedColumns + 1) * spacing
        let height = rows * (titleHeight + cellHeight) + (rows + 1) * spacing

        var result = RasterImage(width: width, height: height, format: format, fill: background)
        let charactersPerCell = max(0, (cellWidth + BitmapFont.advance * titleScale - BitmapFont.glyphWidth * titleScale)
            / (BitmapFont.advance * titleScale))
        for (index, image) in images.enumerated() {
            let cellLeft = spacing + (index % columns) * (cellWidth + spacing)
            let cellTop = spacing + (index / columns) * (titleHeight + cellHeight + spacing)
            if let title = titles?[index], charactersPerCell > 0 {
                let visibleTitle = String(title.prefix(charactersPerCell))
                let textLeft = cellLeft + (cellWidth - BitmapFont.width(of: visibleTitle, scale: titleScale)) / 2
                result.drawText(visibleTitle, x: textLeft, y: cellTop, scale: titleScale, color: titleColor)
            }
            result.draw(
                image.converted(to: format),
                x: cellLeft + (cellWidth - image.width) / 2,
                y: cellTop + titleHeight + (cellHeight - image.height) / 2)
        }
        return result
    }
}
