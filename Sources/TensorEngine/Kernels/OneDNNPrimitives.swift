import CDNNL
import Foundation

// Wrappers around oneDNN 2.6 C API handles (Debian's libdnnl), and the cache of convolution
// primitives keyed by geometry. Handles are destroyed when the last Swift reference goes away, so
// a cache entry evicted while another thread executes it stays alive until that thread is done.

/// A failed oneDNN call: the function that failed and the status it returned.
struct OneDNNError: Error {
    let function: String
    let status: dnnl_status_t

    /// The status as oneDNN's documentation spells it, without the `dnnl_` prefix.
    var statusName: String {
        switch status {
        case dnnl_success: "success"
        case dnnl_out_of_memory: "out_of_memory"
        case dnnl_invalid_arguments: "invalid_arguments"
        case dnnl_unimplemented: "unimplemented"
        case dnnl_iterator_ends: "iterator_ends"
        case dnnl_runtime_error: "runtime_error"
        case dnnl_not_required: "not_required"
        default: "status \(status.rawValue)"
        }
    }

    /// Stops the program with a message that names the function, the status and the convolution.
    func stop(_ geometry: ConvolutionGeometry?, file: StaticString = #file, line: UInt = #line) -> Never {
        let call = geometry.map { " for conv2d with \($0.callDescription)" } ?? ""
        fatalError(
            "oneDNN \(function) failed with status \(statusName)\(call). Set \(ConvolutionBackend.environmentVariable)=im2col to use the im2col backend instead.",
            file: file, line: line)
    }
}

/// Throws unless `status` is `dnnl_success`.
@inline(__always)
func checkOneDNN(_ status: dnnl_status_t, _ function: String) throws(OneDNNError) {
    if status != dnnl_success { throw OneDNNError(function: function, status: status) }
}

extension ConvolutionGeometry {
    /// The shapes and settings of the `conv2d` call, for error messages.
    var callDescription: String {
        "input \(inputShape), filter \(filterShape), strides (\(strideHeight), \(strideWidth)), "
            + "paddings (\(paddingHeight), \(paddingWidth)), groups \(groups)"
    }
}

/// The CPU engine, the attributes shared by every primitive, and a pool of streams.
final class OneDNNContext: @unchecked Sendable {
    static let shared = OneDNNContext()

    let engine: dnnl_engine_t
    /// Attributes for every primitive this module creates. The scratchpad is passed at execution
    /// (`dnnl_scratchpad_mode_user`), which makes a primitive safe to execute from several threads
    /// at once whatever scratchpad policy the library was built with. The math mode is strict, so
    /// the environment variable `DNNL_DEFAULT_FPMATH_MODE` cannot lower f32 to bf16 arithmetic.
    let attributes: dnnl_primitive_attr_t

    private let lock = NSLock()
    /// Streams not in use, guarded by `lock`.
    private var idleStreams: [dnnl_stream_t] = []

    private init() {
        do throws(OneDNNError) {
            var engine: dnnl_engine_t?
            try checkOneDNN(dnnl_engine_create(&engine, dnnl_cpu, 0), "dnnl_engine_create")
            var attributes: dnnl_primitive_attr_t?
            try checkOneDNN(dnnl_primitive_attr_create(&attributes), "dnnl_primitive_attr_create")
            try checkOneDNN(
                dnnl_primitive_attr_set_scratchpad_mode(attributes, dnnl_scratchpad_mode_user),
                "dnnl_primitive_attr_set_scratchpad_mode")
            try checkOneDNN(
                dnnl_primitive_attr_set_fpmath_mode(attributes, dnnl_fpmath_mode_strict),
                "dnnl_primitive_attr_set_fpmath_mode")
            self.engine = engine!
            self.attributes = attributes!
        } catch {
            error.stop(nil)
        }
    }

    /// Calls `body` with a stream that no other thread uses meanwhile.
    func withStream<R>(_ body: (dnnl_stream_t) -> R) -> R {
        lock.lock()
        let idle = idleStreams.popLast()
        lock.unlock()
        let stream: dnnl_stream_t
        if let idle {
            stream = idle
        } else {
            var created: dnnl_stream_t?
            do throws(OneDNNError) {
                try checkOneDNN(
                    dnnl_stream_create(&created, engine, dnnl_stream_default_flags.rawValue),
                    "dnnl_stream_create")
            } catch {
                error.stop(nil)
            }
            stream = created!
        }
        defer {
            lock.lock()
            idleStreams.append(stream)
            lock.unlock()
        }
        return body(stream)
    }
}

/// An owned primitive descriptor.
final class OneDNNPrimitiveDescriptor: @unchecked Sendable {
    let handle: dnnl_primitive_desc_t

    init(handle: dnnl_primitive_desc_t) { self.handle = handle }
    deinit { dnnl_primitive_desc_destroy(handle) }

    /// Returns a copy of the memory descriptor that `query` names, or a zero descriptor when the
    /// primitive has no such argument.
    func memoryDescriptor(_ query: dnnl_query_t) -> dnnl_memory_desc_t {
        dnnl_primitive_desc_query_md(handle, query, 0)?.pointee ?? dnnl_memory_desc_t()
    }
}

/// An owned primitive, with the scratchpad it needs at execution.
final class OneDNNPrimitive: @unchecked Sendable {
    let handle: dnnl_primitive_t
    var scratchpad: dnnl_memory_desc_t
    let scratchpadByteCount: Int
    /// oneDNN's name for the implementation, such as `jit:avx512_core` or `gemm:jit`.
    let implementation: String

    init(_ descriptor: OneDNNPrimitiveDescriptor) throws(OneDNNError) {
        var handle: dnnl_primitive_t?
        try checkOneDNN(dnnl_primitive_create(&handle, descriptor.handle), "dnnl_primitive_create")
        self.handle = handle!
        scratchpad = descriptor.memoryDescriptor(dnnl_query_scratchpad_md)
        scratchpadByteCount = dnnl_memory_desc_get_size(&scratchpad)
        var name: UnsafePointer<CChar>?
        if dnnl_primitive_desc_query(descriptor.handle, dnnl_query_impl_info_str, 0, &name) == dnnl_success,
            let name
        {
            implementation = String(cString: name)
        } else {
            implementation = "unknown"
        }
    }

    deinit { dnnl_primitive_destroy(handle) }
}

/// One tensor argument of a convolution primitive: the plain NCHW (or OIHW) layout of the
/// engine's tensors, the layout the primitive reads or writes, and the reorder between the two
/// when they differ.
struct OneDNNArgument {
    /// The `DNNL_ARG_*` index of the argument.
    let role: Int32
    /// True for the argument the primitive writes.
    let isOutput: Bool
    var plain: dnnl_memory_desc_t
    var layout: dnnl_memory_desc_t
    /// The reorder from plain to `layout` for inputs, or from `layout` to plain for the output.
    /// It is nil when the two layouts are equal.
    let reorder: OneDNNPrimitive?
    /// Size of a buffer in `layout`, including any padding of blocked channels.
    let layoutByteCount: Int
}

/// The three oneDNN primitives of a 2-D convolution.
enum OneDNNConvolutionKind: Hashable, Sendable {
    case forward, backwardData, backwardWeights
}

/// A convolution primitive with its arguments.
final class OneDNNConvolutionPrimitive: @unchecked Sendable {
    let primitive: OneDNNPrimitive
    let arguments: [OneDNNArgument]

    init(primitive: OneDNNPrimitive, arguments: [OneDNNArgument]) {
        self.primitive = primitive
        self.arguments = arguments
    }

    /// Every primitive that runs in one execution: input reorders, the convolution, the output
    /// reorder.
    var allPrimitives: [OneDNNPrimitive] { [primitive] + arguments.compactMap(\.reorder) }
}

/// Convolution primitives keyed by geometry and kind, created on first use and shared by all
/// threads.
///
/// An ODE solver evaluates one convolution thousands of times, so creation (which generates
/// machine code) is paid once per geometry. Geometries that oneDNN does not implement are cached
/// as nil, so that their callers go straight to the im2col path.
final class OneDNNConvolutionCache: @unchecked Sendable {
    static let shared = OneDNNConvolutionCache()

    /// Upper bound on cached entries. Beyond it, the oldest entry is dropped.
    static let maximumEntryCount = 256

    private struct Key: Hashable {
        let geometry: ConvolutionGeometry
        let kind: OneDNNConvolutionKind
    }

    private let lock = NSLock()
    /// Guarded by `lock`, like every property below.
    private var primitives: [Key: OneDNNConvolutionPrimitive?] = [:]
    /// The forward training descriptors, which the backward descriptors take as a hint.
    private var trainingDescriptors: [ConvolutionGeometry: OneDNNPrimitiveDescriptor?] = [:]
    /// Keys of `primitives` in insertion order, for eviction.
    private var insertionOrder: [Key] = []

    /// Returns the primitive of `kind` for `geometry`, creating it on first use, or nil when
    /// oneDNN reports it as unimplemented. Stops the program on any other oneDNN failure.
    func primitive(_ kind: OneDNNConvolutionKind, _ geometry: ConvolutionGeometry)
        -> OneDNNConvolutionPrimitive?
    {
        let key = Key(geometry: geometry, kind: kind)
        lock.lock()
        defer { lock.unlock() }
        if let cached = primitives[key] { return cached }

        // Creation runs under the lock. It happens once per geometry, and a thread that needs
        // the same primitive meanwhile waits for it instead of generating it again.
        let created: OneDNNConvolutionPrimitive?
        do throws(OneDNNError) {
            if kind == .forward {
                let descriptor = try OneDNNConvolutionFactory.descriptor(.forward, geometry, hint: nil)
                created = try OneDNNConvolutionFactory.convolution(kind, descriptor, geometry)
            } else if let hint = try trainingDescriptor(geometry) {
                let descriptor = try OneDNNConvolutionFactory.descriptor(kind, geometry, hint: hint)
                created = try OneDNNConvolutionFactory.convolution(kind, descriptor, geometry)
            } else {
                created = nil
            }
        } catch where error.status == dnnl_unimplemented {
            created = nil
        } catch {
            error.stop(geometry)
        }
        primitives[key] = .some(created)
        insertionOrder.append(key)
        if insertionOrder.count > OneDNNConvolutionCache.maximumEntryCount {
            let oldest = insertionOrder.removeFirst()
            primitives[oldest] = nil
            if !insertionOrder.contains(where: { $0.geometry == oldest.geometry }) {
                trainingDescriptors[oldest.geometry] = nil
            }
        }
        return created
    }

    /// Returns the cached forward training descriptor, creating it on first use, or nil when
    /// oneDNN does not implement the geometry. Called with `lock` held.
    private func trainingDescriptor(_ geometry: ConvolutionGeometry) throws(OneDNNError)
        -> OneDNNPrimitiveDescriptor?
    {
        if let cached = trainingDescriptors[geometry] { return cached }
        let descriptor: OneDNNPrimitiveDescriptor?
        do throws(OneDNNError) {
            descriptor = try OneDNNConvolutionFactory.descriptor(
                .forward, geometry, hint: nil, propagation: dnnl_forward_training)
        } catch where error.status == dnnl_unimplemented {
            descriptor = nil
        }
        trainingDescriptors[geometry] = .some(descriptor)
        return descriptor
    }
}

/// Creation of convolution descriptors and primitives.
enum OneDNNConvolutionFactory {
    /// Returns memory descriptors for the source, weights and destination of `g`: in the plain
    /// layouts of the engine's tensors, or with `any` in `dnnl_format_tag_any`, which lets the
    /// primitive choose.
    static func memoryDescriptors(_ g: ConvolutionGeometry, any: Bool) throws(OneDNNError)
        -> (source: dnnl_memory_desc_t, weights: dnnl_memory_desc_t, destination: dnnl_memory_desc_t)
    {
        let weightDimensions =
            g.groups == 1
            ? g.filterShape
            : [g.groups, g.outputChannelsPerGroup, g.inputChannels / g.groups, g.kernelHeight, g.kernelWidth]
        let plainWeights = g.groups == 1 ? dnnl_oihw : dnnl_goihw
        return (
            try memoryDescriptor(g.inputShape, any ? dnnl_format_tag_any : dnnl_nchw),
            try memoryDescriptor(weightDimensions, any ? dnnl_format_tag_any : plainWeights),
            try memoryDescriptor(g.outputShape, any ? dnnl_format_tag_any : dnnl_nchw)
        )
    }

    static func memoryDescriptor(_ dimensions: [Int], _ tag: dnnl_format_tag_t) throws(OneDNNError)
        -> dnnl_memory_desc_t
    {
        var descriptor = dnnl_memory_desc_t()
        let dims = dimensions.map { Int64($0) }
        try checkOneDNN(
            dnnl_memory_desc_init_by_tag(&descriptor, Int32(dims.count), dims, dnnl_f32, tag),
            "dnnl_memory_desc_init_by_tag")
        return descriptor
    }

    /// Creates the descriptor of one convolution primitive, with every layout left to oneDNN.
    ///
    /// Plain NCHW tensors would avoid the reorders, but with them oneDNN 2.6 picks its
    /// im2col-and-gemm implementation. That took about 9 ms for the forward pass of a 3×3,
    /// 64-channel convolution on a [128, 64, 6, 6] input, against 1.5 ms for the channel-blocked
    /// direct kernel with its reorders. These figures come from a C test program on one thread of
    /// a 2-core AMD EPYC with AVX-512, with other jobs running.
    ///
    /// The forward primitive is created for `dnnl_forward_inference` even when a backward pass
    /// follows, because an f32 convolution keeps no workspace for it. oneDNN 2.6 then chooses its
    /// `brgconv` kernel, which ran that forward pass about 8 % faster than the `jit` kernel of
    /// `dnnl_forward_training`, and a 7×7 one at the same speed (same program and machine). The
    /// backward descriptors take a `dnnl_forward_training` descriptor (`propagation`) as their
    /// hint, as oneDNN requires.
    ///
    /// Padding is symmetric, as in `conv2d`. oneDNN checks that the output size follows from it
    /// with the same rounding down.
    static func descriptor(
        _ kind: OneDNNConvolutionKind, _ g: ConvolutionGeometry, hint: OneDNNPrimitiveDescriptor?,
        propagation: dnnl_prop_kind_t = dnnl_forward_inference
    ) throws(OneDNNError) -> OneDNNPrimitiveDescriptor {
        var (source, weights, destination) = try memoryDescriptors(g, any: true)
        let strides: [Int64] = [Int64(g.strideHeight), Int64(g.strideWidth)]
        let padding: [Int64] = [Int64(g.paddingHeight), Int64(g.paddingWidth)]
        var convolution = dnnl_convolution_desc_t()
        switch kind {
        case .forward:
            try checkOneDNN(
                dnnl_convolution_forward_desc_init(
                    &convolution, propagation, dnnl_convolution_direct, &source, &weights,
                    nil, &destination, strides, padding, padding),
                "dnnl_convolution_forward_desc_init")
        case .backwardData:
            try checkOneDNN(
                dnnl_convolution_backward_data_desc_init(
                    &convolution, dnnl_convolution_direct, &source, &weights, &destination, strides,
                    padding, padding),
                "dnnl_convolution_backward_data_desc_init")
        case .backwardWeights:
            try checkOneDNN(
                dnnl_convolution_backward_weights_desc_init(
                    &convolution, dnnl_convolution_direct, &source, &weights, nil, &destination,
                    strides, padding, padding),
                "dnnl_convolution_backward_weights_desc_init")
        }
        var handle: dnnl_primitive_desc_t?
        try checkOneDNN(
            dnnl_primitive_desc_create(
                &handle, &convolution, OneDNNContext.shared.attributes, OneDNNContext.shared.engine,
                hint?.handle),
            "dnnl_primitive_desc_create (\(kind))")
        return OneDNNPrimitiveDescriptor(handle: handle!)
    }

    /// Creates the primitive for `descriptor` and the reorders between the engine's plain
    /// layouts and the layouts the primitive chose.
    static func convolution(
        _ kind: OneDNNConvolutionKind, _ descriptor: OneDNNPrimitiveDescriptor, _ g: ConvolutionGeometry
    ) throws(OneDNNError) -> OneDNNConvolutionPrimitive {
        let plain = try memoryDescriptors(g, any: false)
        let roles: [(role: Int32, query: dnnl_query_t, plain: dnnl_memory_desc_t, isOutput: Bool)]
        switch kind {
        case .forward:
            roles = [
                (DNNL_ARG_SRC, dnnl_query_src_md, plain.source, false),
                (DNNL_ARG_WEIGHTS, dnnl_query_weights_md, plain.weights, false),
                (DNNL_ARG_DST, dnnl_query_dst_md, plain.destination, true),
            ]
        case .backwardData:
            roles = [
                (DNNL_ARG_DIFF_DST, dnnl_query_diff_dst_md, plain.destination, false),
                (DNNL_ARG_WEIGHTS, dnnl_query_weights_md, plain.weights, false),
                (DNNL_ARG_DIFF_SRC, dnnl_query_diff_src_md, plain.source, true),
            ]
        case .backwardWeights:
            roles = [
                (DNNL_ARG_SRC, dnnl_query_src_md, plain.source, false),
                (DNNL_ARG_DIFF_DST, dnnl_query_diff_dst_md, plain.destination, false),
                (DNNL_ARG_DIFF_WEIGHTS, dnnl_query_diff_weights_md, plain.weights, true),
            ]
        }
        var arguments: [OneDNNArgument] = []
        for entry in roles {
            var plainLayout = entry.plain
            var layout = descriptor.memoryDescriptor(entry.query)
            var reorder: OneDNNPrimitive?
            if dnnl_memory_desc_equal(&plainLayout, &layout) == 0 {
                reorder = entry.isOutput
                    ? try self.reorder(from: &layout, to: &plainLayout)
                    : try self.reorder(from: &plainLayout, to: &layout)
            }
            arguments.append(
                OneDNNArgument(
                    role: entry.role, isOutput: entry.isOutput, plain: plainLayout, layout: layout,
                    reorder: reorder, layoutByteCount: dnnl_memory_desc_get_size(&layout)))
        }
        return OneDNNConvolutionPrimitive(primitive: try OneDNNPrimitive(descriptor), arguments: arguments)
    }

    static func reorder(
        from source: inout dnnl_memory_desc_t, to destination: inout dnnl_memory_desc_t
    ) throws(OneDNNError) -> OneDNNPrimitive {
        let context = OneDNNContext.shared
        var handle: dnnl_primitive_desc_t?
        try checkOneDNN(
            dnnl_reorder_primitive_desc_create(
                &handle, &source, context.engine, &destination, context.engine, context.attributes),
            "dnnl_reorder_primitive_desc_create")
        return try OneDNNPrimitive(OneDNNPrimitiveDescriptor(handle: handle!))
    }
}
