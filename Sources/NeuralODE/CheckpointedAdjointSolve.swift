import ODESolvers
import TensorEngine

struct CheckpointedAdjointSolve<Scalar: TensorScalar> {
    let dynamics: (Double, [Tensor<Scalar>]) -> [Tensor<Scalar>]
    let initialState: [Tensor<Scalar>]
    let times: [Double]
    let timesTensor: Tensor<Scalar>?
    let method: ODEMethod
    let options: ODESolverOptions
    let stepsPerCheckpoint: Int
    let parameters: [Tensor<Scalar>]

    func run() throws(ODESolveError) -> NeuralODESolution<Scalar> {
        fatalError("checkpointedAdjoint is not implemented yet")
    }
}
