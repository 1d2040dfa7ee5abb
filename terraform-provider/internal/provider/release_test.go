package provider

import "testing"

func TestDefaultImage(t *testing.T) {
	const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	cases := []struct {
		name, digest string
		data         *providerData
		want         string
	}{
		{"development build, no version", "", nil, ControllerImageRepository + ":latest"},
		{"development build, versioned", "", &providerData{Version: "0.1.0"}, ControllerImageRepository + ":0.1.0"},
		{"release build pins the digest", digest, &providerData{Version: "0.1.0"}, ControllerImageRepository + "@" + digest},
		{"release build without provider data", digest, nil, ControllerImageRepository + "@" + digest},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			old := ReleaseImageDigest
			ReleaseImageDigest = c.digest
			t.Cleanup(func() { ReleaseImageDigest = old })
			r := &controllerResource{configuredResource{data: c.data}}
			if got := r.defaultImage(); got != c.want {
				t.Errorf("defaultImage() = %q, want %q", got, c.want)
			}
		})
	}
}
