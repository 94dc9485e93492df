from tests.badinput.inproc import inproc

__all__ = ["inproc"]
