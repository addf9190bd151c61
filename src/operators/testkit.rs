//! Test support for the operator unit tests.
