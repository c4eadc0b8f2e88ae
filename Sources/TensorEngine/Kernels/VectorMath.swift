/// Whole-buffer elementary functions, one entry point per scalar type.
///
/// These are the kernels a vectorised implementation replaces; today they loop over the
/// scalar functions of the C library, specialised for each type.
enum VectorMath {
    static func apply(
        _ function: ElementaryFunction, _ x: UnsafePointer<Float>,
        _ y: UnsafeMutablePointer<Float>, count: Int
    ) {
        Float.applyElementwise(function, x, y, count: count)
    }

    static func apply(
        _ function: ElementaryFunction, _ x: UnsafePointer<Double>,
        _ y: UnsafeMutablePointer<Double>, count: Int
    ) {
        Double.applyElementwise(function, x, y, count: count)
    }
}
