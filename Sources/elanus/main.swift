print("elanus")
