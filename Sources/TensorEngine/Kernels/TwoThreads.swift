// Linux only: the worker is created with Glibc's pthread_create, and the back-off reads
// `/proc/thread-self/schedstat`.
import Glibc
import Synchronization

/// A fork-join over two threads: the calling thread and one persistent worker thread.
///
/// `run(_:)` calls `body(0)` on the calling thread and offers `body(1)` to the worker. The
/// kernels that split their work this way run every 20 to 200 µs during an ODE solve, and a
/// worker that sleeps between them has to be woken by a futex system call each time. That is
/// what `DispatchQueue.concurrentPerform` did: about 20% of the samples of a batch-4096 MLP
/// solve were in the kernel's wake-up path. Here the worker instead spins on an atomic for
/// `spinNanoseconds` after each job and only then blocks on a condition variable, so an idle
/// process uses no CPU.
///
/// Spinning pays only when the worker has a core to itself. When other processes want the
/// cores, the spin takes CPU time from them and, through the scheduler's fair share per
/// process group, from the calling thread. So after each job the worker reads how long it
/// waited on a run queue since the previous job (Linux's `/proc/thread-self/schedstat`).
/// When that grew by more than 50 µs, the worker does not spin for a back-off time, which doubles
/// while such waits recur within 50 ms of each other, from 1 ms up to 128 ms. Where the file
/// is missing, the worker always spins.
///
/// When the calling thread finishes `body(0)` before the worker has claimed `body(1)` (the
/// worker was asleep, or preempted by other processes), the calling thread takes `body(1)`
/// back and runs it itself. So a worker that is not scheduled never delays the caller, unless
/// it is preempted in the middle of `body(1)`.
///
/// Calls that find the worker in use run both halves on the calling thread, one after the
/// other. That covers a `body` that calls `run` again (nested calls) and calls from several
/// threads at once.
enum TwoThreads {
    /// How long the worker, and a caller waiting for the worker's half, spin before they
    /// block. The environment variable `NEURALODE_SPIN_MICROSECONDS` overrides it, and with 0
    /// both sides block at once.
    ///
    /// NOTE: 50 µs was chosen by measurement on one machine, the 2-core development machine
    /// (AMD EPYC under KVM), where the gaps between fork-joins of a batch-4096 MLP solve are
    /// 20 to 200 µs.
    static let spinNanoseconds = EngineEnvironment.valueOrStop(configuredSpin())

    /// The environment variable that sets `spinNanoseconds`, in microseconds.
    static let spinEnvironmentVariable = "NEURALODE_SPIN_MICROSECONDS"

    /// Returns the spin time in nanoseconds that `NEURALODE_SPIN_MICROSECONDS` sets (50 µs
    /// when it is unset or empty), or the problem with its value.
    static func configuredSpin() -> Result<Int64, EnvironmentProblem> {
        let variable = spinEnvironmentVariable
        guard let text = getenv(variable).map({ String(cString: $0) }), !text.isEmpty else {
            return .success(50_000)
        }
        guard let microseconds = Int64(text), microseconds >= 0, microseconds <= 1_000_000 else {
            return .failure(EnvironmentProblem(
                message: "\(variable)=\(text) is not a valid spin time. Set it to a whole number of microseconds from 0 to 1000000, or unset it."))
        }
        return .success(microseconds * 1000)
    }

    /// Calls `body(0)` on the calling thread and `body(1)` on the worker thread, and returns
    /// when both have returned.
    ///
    /// The two calls may run at the same time on two threads, or one after the other on the
    /// calling thread (see `TwoThreads`), so they must write disjoint memory. Each half runs
    /// once, because the worker and the caller claim half 1 through one atomic exchange.
    ///
    /// Both halves run with the caller's `MatrixProductBackend.override`, which the worker
    /// thread would not see otherwise because it is a task-local value. Other per-thread
    /// settings (OpenMP's thread count, `GradientMode`) are not carried over, so read them
    /// before calling `run` and capture the values.
    static func run(_ body: (Int) -> Void) {
        guard let backendOverride = MatrixProductBackend.override else {
            worker.run(body)
            return
        }
        worker.run { half in
            MatrixProductBackend.$override.withValue(backendOverride) { body(half) }
        }
    }

    /// The worker thread, started on the first call of `run`.
    private static let worker = TwoThreadsWorker()
}

/// The state shared between callers of `TwoThreads.run` and the worker thread.
///
/// A call goes through these steps:
///
/// 1. The caller sets `isInUse`. When another call has set it, the caller runs both halves
///    itself.
/// 2. The caller stores the job and then its generation number in `offeredGeneration`, and
///    wakes the worker if `isWorkerBlocked` is set.
/// 3. The caller runs half 0, and the worker claims the job by exchanging
///    `offeredGeneration` for 0. If the caller's own exchange succeeds first, it runs half 1
///    itself.
/// 4. Otherwise the caller waits until `completedGeneration` holds its generation, spinning
///    first and then blocking on `callerCondition`.
///
/// Each side sets its blocked flag and then reads the other side's variable, and the other
/// side stores its variable and then reads the flag. All four accesses are sequentially
/// consistent, so one side sees the other's store: either the sleeper sees the new value and
/// does not block, or the waker sees the flag and signals under the mutex, which the sleeper
/// holds until it waits.
private final class TwoThreadsWorker: @unchecked Sendable {
    private let isInUse = Atomic<Bool>(false)
    private let offeredGeneration = Atomic<UInt64>(0)
    private let completedGeneration = Atomic<UInt64>(0)
    private let isWorkerBlocked = Atomic<Bool>(false)
    private let isCallerBlocked = Atomic<Bool>(false)

    /// The monotonic time in nanoseconds before which the worker does not spin, because it
    /// recently waited for a core.
    private let spinningResumes = Atomic<Int64>(0)

    /// A growth of the worker's run-queue wait between two jobs beyond this many nanoseconds
    /// means that other threads want its core. Waking on an idle core takes less.
    private static let contentionRunDelay = 50_000
    /// Back-off times in nanoseconds, and the time within which a second wait doubles it.
    private static let minimumBackOff: Int64 = 1_000_000
    private static let maximumBackOff: Int64 = 128_000_000
    private static let contentionWindow: Int64 = 50_000_000

    // The worker thread's own state for the back-off: its run-queue wait in nanoseconds at
    // the previous check, the present back-off time and the time of the last long wait.
    private let runDelayReader = RunDelayReader()
    private var lastRunDelay = 0
    private var backOff: Int64 = 0
    private var lastContention: Int64 = .min / 2

    /// Generation numbers of the jobs, counted by the caller that set `isInUse`. 0 means no
    /// job is offered.
    private var lastGeneration: UInt64 = 0

    /// The job of the call that set `isInUse`. The caller writes it before it stores the
    /// job's generation in `offeredGeneration` (a release), and the worker reads it only after
    /// claiming that generation (an acquire).
    private var job: ((Int) -> Void)?

    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let workerCondition: UnsafeMutablePointer<pthread_cond_t>
    private let callerCondition: UnsafeMutablePointer<pthread_cond_t>

    init() {
        mutex = .allocate(capacity: 1)
        workerCondition = .allocate(capacity: 1)
        callerCondition = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(workerCondition, nil)
        pthread_cond_init(callerCondition, nil)
        startThread()
    }

    // MARK: - Caller side

    func run(_ body: (Int) -> Void) {
        guard
            isInUse.compareExchange(
                expected: false, desired: true, successOrdering: .acquiring,
                failureOrdering: .relaxed
            ).exchanged
        else {
            body(0)
            body(1)
            return
        }
        defer { isInUse.store(false, ordering: .releasing) }

        withoutActuallyEscaping(body) { body in
            lastGeneration &+= 1
            let generation = lastGeneration
            job = body
            offer(generation)

            body(0)

            let tookBack = offeredGeneration.compareExchange(
                expected: generation, desired: 0, ordering: .relaxed
            ).exchanged
            if tookBack {
                body(1)
            } else {
                waitForCompletion(of: generation)
            }
            // The worker released its reference before it stored the completed generation,
            // so `body` is unique again when `withoutActuallyEscaping` checks it.
            job = nil
        }
    }

    private func offer(_ generation: UInt64) {
        offeredGeneration.store(generation, ordering: .sequentiallyConsistent)
        if isWorkerBlocked.load(ordering: .sequentiallyConsistent) {
            pthread_mutex_lock(mutex)
            pthread_cond_signal(workerCondition)
            pthread_mutex_unlock(mutex)
        }
    }

    private func waitForCompletion(of generation: UInt64) {
        // The worker claimed the job and is running it, so the wait is short unless the worker
        // is preempted. The caller spins even during a back-off, because blocking would add a
        // wake-up of the caller to every call.
        let isDone = { self.completedGeneration.load(ordering: .acquiring) == generation }
        if isDone() || (TwoThreads.spinNanoseconds > 0 && spin(until: isDone)) {
            return
        }
        pthread_mutex_lock(mutex)
        isCallerBlocked.store(true, ordering: .sequentiallyConsistent)
        while completedGeneration.load(ordering: .sequentiallyConsistent) != generation {
            pthread_cond_wait(callerCondition, mutex)
        }
        isCallerBlocked.store(false, ordering: .relaxed)
        pthread_mutex_unlock(mutex)
    }

    // MARK: - Worker side

    private func startThread() {
        var thread = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        let status = pthread_create(
            &thread, nil,
            { context in
                let worker = Unmanaged<TwoThreadsWorker>.fromOpaque(context!)
                    .takeRetainedValue()
                worker.workLoop()
            }, context)
        guard status == 0 else {
            fatalError(
                "TwoThreads: pthread_create failed with error \(status) (\(String(cString: strerror(status)))).")
        }
        pthread_detach(thread)
    }

    private func workLoop() -> Never {
        while true {
            let generation = waitForOffer()
            let claimed = offeredGeneration.compareExchange(
                expected: generation, desired: 0, successOrdering: .acquiring,
                failureOrdering: .relaxed
            ).exchanged
            // A failed exchange means the caller took its job back, and the loop waits for the
            // next one.
            guard claimed else { continue }

            runSecondHalf()
            completedGeneration.store(generation, ordering: .sequentiallyConsistent)
            if isCallerBlocked.load(ordering: .sequentiallyConsistent) {
                pthread_mutex_lock(mutex)
                pthread_cond_signal(callerCondition)
                pthread_mutex_unlock(mutex)
            }
        }
    }

    /// Runs half 1 of the claimed job. It is a separate function so that the worker's
    /// reference to the job is released when it returns, before the completion is stored.
    @inline(never)
    private func runSecondHalf() {
        job.unsafelyUnwrapped(1)
    }

    /// Returns the generation of an offered job, spinning for `spinNanoseconds` and then
    /// blocking until one is offered.
    private func waitForOffer() -> UInt64 {
        updateBackOff()
        var generation: UInt64 = 0
        let isOffered = {
            generation = self.offeredGeneration.load(ordering: .relaxed)
            return generation != 0
        }
        if isOffered() || (isSpinningAllowed() && spin(until: isOffered)) {
            return generation
        }

        pthread_mutex_lock(mutex)
        isWorkerBlocked.store(true, ordering: .sequentiallyConsistent)
        generation = offeredGeneration.load(ordering: .sequentiallyConsistent)
        while generation == 0 {
            pthread_cond_wait(workerCondition, mutex)
            generation = offeredGeneration.load(ordering: .sequentiallyConsistent)
        }
        isWorkerBlocked.store(false, ordering: .relaxed)
        pthread_mutex_unlock(mutex)
        return generation
    }

    /// Stops spinning for a while when the worker waited long for a core since the last check.
    ///
    /// The back-off doubles when the previous long wait was less than `contentionWindow` ago,
    /// and restarts at `minimumBackOff` otherwise.
    private func updateBackOff() {
        let runDelay = runDelayReader.read()
        let increase = runDelay - lastRunDelay
        lastRunDelay = runDelay
        guard increase > Self.contentionRunDelay else { return }

        let now = monotonicNanoseconds()
        if now - lastContention < Self.contentionWindow {
            backOff = min(backOff * 2, Self.maximumBackOff)
        } else {
            backOff = Self.minimumBackOff
        }
        lastContention = now
        spinningResumes.store(now + backOff, ordering: .relaxed)
    }

    private func isSpinningAllowed() -> Bool {
        TwoThreads.spinNanoseconds > 0
            && monotonicNanoseconds() >= spinningResumes.load(ordering: .relaxed)
    }

    /// Evaluates `condition` in a loop until it is true or `TwoThreads.spinNanoseconds` has
    /// passed, and returns whether it became true.
    ///
    /// Swift has no CPU pause intrinsic, so the loop is a plain load loop. The monotonic clock
    /// is read every 64 iterations.
    @inline(__always)
    private func spin(until condition: () -> Bool) -> Bool {
        let deadline = monotonicNanoseconds() + TwoThreads.spinNanoseconds
        while true {
            for _ in 0..<64 {
                if condition() { return true }
            }
            if monotonicNanoseconds() >= deadline { return condition() }
        }
    }
}

@inline(__always)
private func monotonicNanoseconds() -> Int64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
}

/// A reader of the total time in nanoseconds that one thread spent runnable but waiting on a
/// run queue, from Linux's `/proc/thread-self/schedstat`. The thread that calls `read` first
/// is the one measured. It reads 0 when the file is not available.
private final class RunDelayReader {
    private var file: Int32 = -2

    /// Reads the run-queue wait. One `pread` of the file took 1.2 µs on the development
    /// machine.
    func read() -> Int {
        if file == -2 { file = open("/proc/thread-self/schedstat", O_RDONLY) }
        guard file >= 0 else { return 0 }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 128) { bytes in
            let count = pread(file, bytes.baseAddress, bytes.count, 0)
            guard count > 0 else { return 0 }
            // The file is "<CPU time> <run delay> <time slices>\n", in nanoseconds.
            var field = 0
            var value = 0
            for byte in bytes.prefix(count) {
                if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") {
                    if field == 1 { return value }
                    field += 1
                    value = 0
                } else {
                    value = value &* 10 &+ Int(byte &- UInt8(ascii: "0"))
                }
            }
            return 0
        }
    }
}
