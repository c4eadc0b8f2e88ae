print("neuralode")
