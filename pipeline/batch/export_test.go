package batch

// Test hooks, for the tests of package batch_test.

// WithAfterClaim returns opt calling f after each file is claimed, before it is read.
func WithAfterClaim(opt Options, f func(rel string)) Options {
	opt.afterClaim = f
	return opt
}

// WithReached returns opt calling f at each named point of a run where a crash leaves
// records to tidy.
func WithReached(opt Options, f func(point string)) Options {
	opt.reached = f
	return opt
}

// ProgramDigest is the digest the run records stamp, for the test that replaces the
// executable under a running process.
func ProgramDigest() string { return programDigest() }
