"""The learner's side of the course: exercises, checking one's own Dockerfile, progress."""
