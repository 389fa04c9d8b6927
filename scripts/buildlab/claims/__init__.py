"""What a lesson promises, each claim one function that builds and runs for real and returns a
verdict with its reason; shared by the Docker tier, `buildlab check` and `adopt`."""
