import CDNNL

/// The `Float` convolution kernels on oneDNN: the forward pass and the two gradients, on the
/// engine's NCHW tensors.
///
/// Each call reorders its inputs into the layouts the primitive chose (channel-blocked on AVX-512
/// machines), executes the primitive and reorders the result back. The reordered copies live in
/// scratch memory only for the call, because tensors can be changed in place between calls.
/// Threads come from oneDNN's OpenMP runtime (libgomp in Debian's build), which follows
/// `OMP_NUM_THREADS` when it is set and otherwise uses one thread per core.
///
/// NOTE: libgomp's default wait policy lets idle threads spin. On a 2-core machine with other
/// busy processes, or with OpenBLAS's own threads waiting for a core, a 2-thread convolution then
/// took up to 60 times longer than on a quiet machine. `OMP_WAIT_POLICY=passive`, set before the
/// program starts, avoided most of that slowdown.
enum OneDNNConvolution {
    /// Returns true when oneDNN should be tried for `geometry`: the selected backend is oneDNN and
    /// no dimension is zero. Empty batches and images take the im2col path, which defines their
    /// results (a zero filter gradient for an empty batch).
    static func isEligible(_ g: ConvolutionGeometry) -> Bool {
        ConvolutionBackend.current == .oneDNN && g.batch > 0 && g.inputHeight > 0 && g.inputWidth > 0
    }

    /// Writes the convolution of `input` with `filter` into `output`, all `Float` in NCHW
    /// layout. Returns false, having written nothing, when oneDNN is not selected or does not
    /// implement the geometry.
    static func forward(
        input: UnsafeRawPointer, filter: UnsafeRawPointer, output: UnsafeMutableRawPointer,
        _ g: ConvolutionGeometry
    ) -> Bool {
        guard isEligible(g), let primitive = OneDNNConvolutionCache.shared.primitive(.forward, g) else {
            return false
        }
        execute(
            [
                OneDNNCall(
                    primitive,
                    buffers: [
                        DNNL_ARG_SRC: UnsafeMutableRawPointer(mutating: input),
                        DNNL_ARG_WEIGHTS: UnsafeMutableRawPointer(mutating: filter),
                        DNNL_ARG_DST: output,
                    ])
            ], g)
        return true
    }

    /// Writes the gradients with respect to the input and the filter, for output cotangent
    /// `outputGradient`, all `Float`. A nil target is not requested. Returns, for each
    /// requested gradient, whether oneDNN computed it, so that the caller computes the others.
    ///
    /// When both gradients are requested, the cotangent is reordered once for both primitives
    /// if they chose the same layout for it.
    static func backward(
        input: UnsafeRawPointer?, filter: UnsafeRawPointer?, outputGradient: UnsafeRawPointer,
        inputGradient: UnsafeMutableRawPointer?, filterGradient: UnsafeMutableRawPointer?,
        _ g: ConvolutionGeometry
    ) -> (inputGradient: Bool, filterGradient: Bool) {
        guard isEligible(g) else { return (false, false) }
        let cotangent = UnsafeMutableRawPointer(mutating: outputGradient)
        var calls: [OneDNNCall] = []
        var computesInputGradient = false
        var computesFilterGradient = false
        if let inputGradient, let filter,
            let primitive = OneDNNConvolutionCache.shared.primitive(.backwardData, g)
        {
            calls.append(
                OneDNNCall(
                    primitive,
                    buffers: [
                        DNNL_ARG_DIFF_DST: cotangent,
                        DNNL_ARG_WEIGHTS: UnsafeMutableRawPointer(mutating: filter),
                        DNNL_ARG_DIFF_SRC: inputGradient,
                    ]))
            computesInputGradient = true
        }
        if let filterGradient, let input,
            let primitive = OneDNNConvolutionCache.shared.primitive(.backwardWeights, g)
        {
            calls.append(
                OneDNNCall(
                    primitive,
                    buffers: [
                        DNNL_ARG_SRC: UnsafeMutableRawPointer(mutating: input),
                        DNNL_ARG_DIFF_DST: cotangent,
                        DNNL_ARG_DIFF_WEIGHTS: filterGradient,
                    ]))
            computesFilterGradient = true
        }
        if !calls.isEmpty { execute(calls, g) }
        return (computesInputGradient, computesFilterGradient)
    }

    // MARK: - Execution

    /// A convolution primitive and the engine's buffers for its arguments, keyed by `DNNL_ARG_*`.
    struct OneDNNCall {
        let primitive: OneDNNConvolutionPrimitive
        let buffers: [Int32: UnsafeMutableRawPointer]

        init(_ primitive: OneDNNConvolutionPrimitive, buffers: [Int32: UnsafeMutableRawPointer]) {
            self.primitive = primitive
            self.buffers = buffers
        }
    }

    /// The position of an argument's copy in the primitive's layout within the call's scratch
    /// buffer.
    private struct StagedArgument {
        let source: UnsafeMutableRawPointer
        var layout: dnnl_memory_desc_t
        let isOutput: Bool
        let offset: Int
        /// True when an earlier call already reordered the same buffer into the same layout.
        let isShared: Bool
    }

    /// Runs `calls` in order on one stream. All reordered copies and the largest scratchpad share
    /// one scratch buffer.
    static func execute(_ calls: [OneDNNCall], _ g: ConvolutionGeometry) {
        // Place every argument whose layout differs from the plain one.
        var staged: [[Int32: StagedArgument]] = []
        var byteCount = 0
        var scratchpadByteCount = 0
        for call in calls {
            var placed: [Int32: StagedArgument] = [:]
            for argument in call.primitive.arguments where argument.reorder != nil {
                let source = call.buffers[argument.role]!
                var layout = argument.layout
                let earlier = staged.lazy.flatMap(\.values).first { previous in
                    var previousLayout = previous.layout
                    return !argument.isOutput && !previous.isOutput && previous.source == source
                        && dnnl_memory_desc_equal(&previousLayout, &layout) != 0
                }
                if let earlier {
                    placed[argument.role] = StagedArgument(
                        source: source, layout: layout, isOutput: false, offset: earlier.offset,
                        isShared: true)
                } else {
                    placed[argument.role] = StagedArgument(
                        source: source, layout: layout, isOutput: argument.isOutput, offset: byteCount,
                        isShared: false)
                    byteCount += alignedByteCount(argument.layoutByteCount)
                }
            }
            staged.append(placed)
            for primitive in call.primitive.allPrimitives {
                scratchpadByteCount = Swift.max(scratchpadByteCount, primitive.scratchpadByteCount)
            }
        }
        let scratchpadOffset = byteCount
        byteCount += scratchpadByteCount

        ScratchMemory.withBuffer(of: UInt8.self, count: byteCount) { bytes in
            let base = UnsafeMutableRawPointer(bytes)
            let scratchpad = base + scratchpadOffset
            OneDNNContext.shared.withStream { stream in
                for (call, placed) in zip(calls, staged) {
                    run(call, placed: placed, base: base, scratchpad: scratchpad, stream, g)
                }
                do throws(OneDNNError) {
                    try checkOneDNN(dnnl_stream_wait(stream), "dnnl_stream_wait")
                } catch {
                    error.stop(g)
                }
            }
        }
    }

    /// Reorders the inputs of one call, executes its primitive and reorders its output.
    private static func run(
        _ call: OneDNNCall, placed: [Int32: StagedArgument], base: UnsafeMutableRawPointer,
        scratchpad: UnsafeMutableRawPointer, _ stream: dnnl_stream_t, _ g: ConvolutionGeometry
    ) {
        var memories: [dnnl_memory_t] = []
        defer { for memory in memories { dnnl_memory_destroy(memory) } }
        do throws(OneDNNError) {
            func makeMemory(_ descriptor: dnnl_memory_desc_t, _ pointer: UnsafeMutableRawPointer)
                throws(OneDNNError) -> dnnl_memory_t
            {
                var descriptor = descriptor
                var memory: dnnl_memory_t?
                try checkOneDNN(
                    dnnl_memory_create(&memory, &descriptor, OneDNNContext.shared.engine, pointer),
                    "dnnl_memory_create")
                memories.append(memory!)
                return memory!
            }
            func execute(_ primitive: OneDNNPrimitive, _ arguments: [dnnl_exec_arg_t])
                throws(OneDNNError)
            {
                var arguments = arguments
                if primitive.scratchpadByteCount > 0 {
                    let memory = try makeMemory(primitive.scratchpad, scratchpad)
                    arguments.append(dnnl_exec_arg_t(arg: DNNL_ARG_SCRATCHPAD, memory: memory))
                }
                try checkOneDNN(
                    dnnl_primitive_execute(primitive.handle, stream, Int32(arguments.count), arguments),
                    "dnnl_primitive_execute (\(primitive.implementation))")
            }

            var convolutionArguments: [dnnl_exec_arg_t] = []
            var outputReorder: (OneDNNPrimitive, from: dnnl_memory_t, to: dnnl_memory_t)?
            for argument in call.primitive.arguments {
                let user = try makeMemory(argument.plain, call.buffers[argument.role]!)
                guard let reorder = argument.reorder, let stage = placed[argument.role] else {
                    convolutionArguments.append(dnnl_exec_arg_t(arg: argument.role, memory: user))
                    continue
                }
                let copy = try makeMemory(argument.layout, base + stage.offset)
                convolutionArguments.append(dnnl_exec_arg_t(arg: argument.role, memory: copy))
                if argument.isOutput {
                    outputReorder = (reorder, copy, user)
                } else if !stage.isShared {
                    try execute(
                        reorder,
                        [
                            dnnl_exec_arg_t(arg: DNNL_ARG_FROM, memory: user),
                            dnnl_exec_arg_t(arg: DNNL_ARG_TO, memory: copy),
                        ])
                }
            }
            try execute(call.primitive.primitive, convolutionArguments)
            if let (reorder, from, to) = outputReorder {
                try execute(
                    reorder,
                    [
                        dnnl_exec_arg_t(arg: DNNL_ARG_FROM, memory: from),
                        dnnl_exec_arg_t(arg: DNNL_ARG_TO, memory: to),
                    ])
            }
        } catch {
            error.stop(g)
        }
    }

    /// Rounds `byteCount` up to the alignment of tensor memory, so every staged copy starts on a
    /// cache line.
    private static func alignedByteCount(_ byteCount: Int) -> Int {
        let alignment = TensorMemory.alignment
        return (byteCount + alignment - 1) / alignment * alignment
    }
}
