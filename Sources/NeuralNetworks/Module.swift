import TensorEngine

/// A part of a neural network: a class that owns parameters, buffers and submodules.
///
/// A model is a class with layer properties and a `callAsFunction`. Its parameters need no
/// registration code: the default `namedMembers` reflects over the stored properties with
/// `Mirror`, the way PyTorch's `nn.Module` collects attributes, and finds
///
/// - properties declared `@Parameter` (trainable tensors, marked as gradient leaves),
/// - properties declared `@Buffer` (state saved in checkpoints but not trained, such as the
///   running statistics of batch normalisation),
/// - properties whose value is a module, an optional module, or an array of modules. Their
///   members get dotted names such as `block.conv1.bias`, and array elements are named by
///   index (`layers.0.weight`).
///
/// Plain `Tensor` properties are constants: they are neither trained nor saved. Properties
/// of superclasses are included. A type whose members are not stored properties overrides
/// `namedMembers`, as `Sequential` does to name its layers `0`, `1`, ….
///
/// The walk runs on each call of `namedParameters` and the other enumerations. Optimizers
/// and checkpoints call it once when they are created or used, never once per step.
///
/// ```swift
/// final class Classifier: Module {
///     typealias Scalar = Float
///     let hidden: Linear<Float>
///     let output: Linear<Float>
///     init(generator: inout RandomGenerator) {
///         hidden = Linear(inputSize: 2, outputSize: 32, generator: &generator)
///         output = Linear(inputSize: 32, outputSize: 2, generator: &generator)
///     }
///     func callAsFunction(_ x: Tensor<Float>) -> Tensor<Float> { output(hidden(x).tanh()) }
/// }
/// // namedParameters: hidden.weight, hidden.bias, output.weight, output.bias
/// ```
public protocol Module<Scalar>: AnyObject {
    /// The scalar type of every parameter and buffer.
    associatedtype Scalar: TensorScalar

    /// The parameters, buffers and submodules that this module contains directly, in
    /// declaration order. The default implementation finds them by reflection.
    var namedMembers: [ModuleMember<Scalar>] { get }
}

/// A module that maps one tensor to one tensor, so that `Sequential` can chain it.
public protocol Layer<Scalar>: Module {
    /// Applies the layer to a batch of inputs.
    func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar>
}

/// A module whose output differs between training and evaluation, such as `BatchNorm`.
///
/// `Module.setTraining(_:)` sets `isTraining` on every such module in a model.
public protocol TrainingModeDependent: AnyObject {
    /// True in training mode (the default for new modules), false in evaluation mode.
    var isTraining: Bool { get set }
}

/// One direct member of a module, with its name relative to that module.
public enum ModuleMember<Scalar: TensorScalar> {
    case parameter(name: String, tensor: Tensor<Scalar>)
    case buffer(name: String, tensor: Tensor<Scalar>)
    case module(name: String, module: any Module<Scalar>)
}

extension Module {
    public var namedMembers: [ModuleMember<Scalar>] { reflectedMembers() }

    /// Finds the parameters, buffers and submodules among the stored properties of this
    /// module and of its superclasses; see `Module`.
    public func reflectedMembers() -> [ModuleMember<Scalar>] {
        var mirrors: [Mirror] = []
        var next: Mirror? = Mirror(reflecting: self)
        while let mirror = next {
            mirrors.append(mirror)
            next = mirror.superclassMirror
        }
        var members: [ModuleMember<Scalar>] = []
        // Superclass properties first, as they are declared first.
        for mirror in mirrors.reversed() {
            for child in mirror.children {
                guard let label = child.label, !label.hasPrefix("$") else { continue }
                collectMembers(of: child.value, label: label, into: &members)
            }
        }
        return members
    }

    private func collectMembers(
        of value: Any, label: String, into members: inout [ModuleMember<Scalar>]
    ) {
        if let slot = value as? any ModuleTensorSlot {
            // The storage of a property wrapper is named `_name`; the property is `name`.
            let name = slot.name ?? (label.hasPrefix("_") ? String(label.dropFirst()) : label)
            guard let object = slot.storedTensor else { return }
            guard let tensor = object as? Tensor<Scalar> else {
                preconditionFailure(
                    "\(type(of: self)).\(name): holds a \(type(of: object)), but the module's scalar type is \(Scalar.self)")
            }
            members.append(
                slot.isParameter ? .parameter(name: name, tensor: tensor) : .buffer(name: name, tensor: tensor))
        } else if let module = value as? any Module<Scalar> {
            members.append(.module(name: label, module: module))
        } else if let modules = value as? [any Module<Scalar>] {
            for (index, module) in modules.enumerated() {
                members.append(.module(name: "\(label).\(index)", module: module))
            }
        } else if value is any Module {
            preconditionFailure(
                "\(type(of: self)).\(label): the submodule \(type(of: value)) has another scalar type than \(Scalar.self)")
        }
    }
}

// MARK: - Enumeration

extension Module {
    /// Every trainable parameter of this module and its submodules, with dotted names, in
    /// declaration order. A tensor reachable by two paths appears once, under the first name.
    public var namedParameters: [(name: String, tensor: Tensor<Scalar>)] {
        var result: [(name: String, tensor: Tensor<Scalar>)] = []
        traverse { member in
            if case .parameter(let name, let tensor) = member { result.append((name, tensor)) }
        }
        return result
    }

    /// Every trainable parameter, in the order of `namedParameters`.
    public var parameters: [Tensor<Scalar>] { namedParameters.map(\.tensor) }

    /// Every buffer (non-trainable state such as running statistics), with dotted names.
    public var namedBuffers: [(name: String, tensor: Tensor<Scalar>)] {
        var result: [(name: String, tensor: Tensor<Scalar>)] = []
        traverse { member in
            if case .buffer(let name, let tensor) = member { result.append((name, tensor)) }
        }
        return result
    }

    /// This module (named "") and every submodule below it, each once, with dotted names,
    /// every module before its own submodules.
    public var namedModules: [(name: String, module: any Module<Scalar>)] {
        var result: [(name: String, module: any Module<Scalar>)] = [("", self)]
        traverse { member in
            if case .module(let name, let module) = member { result.append((name, module)) }
        }
        return result
    }

    /// Number of trainable values.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.scalarCount } }

    /// Switches every `TrainingModeDependent` module in this model to training mode (true)
    /// or evaluation mode (false).
    public func setTraining(_ isTraining: Bool) {
        for (_, module) in namedModules {
            (module as? any TrainingModeDependent)?.isTraining = isTraining
        }
    }

    /// Clears the `gradient` that `backward()` accumulated on every parameter.
    public func zeroGradients() {
        for parameter in parameters { parameter.gradient = nil }
    }

    /// Visits every member below this module depth-first in declaration order, with full
    /// dotted names. Each tensor and each module is visited once, so shared submodules and
    /// reference cycles are safe.
    private func traverse(_ body: (ModuleMember<Scalar>) -> Void) {
        var seenTensors = Set<ObjectIdentifier>()
        var seenModules: Set<ObjectIdentifier> = [ObjectIdentifier(self)]
        // An explicit stack of member lists rather than recursion, so deep nesting is fine.
        var stack: [(prefix: String, members: ArraySlice<ModuleMember<Scalar>>)] = [("", namedMembers[...])]
        while !stack.isEmpty {
            guard let member = stack[stack.count - 1].members.popFirst() else {
                stack.removeLast()
                continue
            }
            let prefix = stack[stack.count - 1].prefix
            switch member {
            case .parameter(let name, let tensor):
                if seenTensors.insert(ObjectIdentifier(tensor)).inserted {
                    body(.parameter(name: prefix + name, tensor: tensor))
                }
            case .buffer(let name, let tensor):
                if seenTensors.insert(ObjectIdentifier(tensor)).inserted {
                    body(.buffer(name: prefix + name, tensor: tensor))
                }
            case .module(let name, let module):
                if seenModules.insert(ObjectIdentifier(module)).inserted {
                    body(.module(name: prefix + name, module: module))
                    stack.append((prefix + name + ".", module.namedMembers[...]))
                }
            }
        }
    }
}
