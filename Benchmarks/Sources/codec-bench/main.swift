print("codec-bench: placeholder")
