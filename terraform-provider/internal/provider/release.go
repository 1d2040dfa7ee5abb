package provider

// ReleaseImageDigest is the digest ("sha256:...") of the controller image
// released with this provider build. `make release` sets it with
// -ldflags "-X .../internal/provider.ReleaseImageDigest=sha256:...", so a
// released provider deploys exactly the image it was published with; tags
// can move, digests cannot. Empty in development builds, which default to
// the tag of the provider version instead.
var ReleaseImageDigest string
