module github.com/edigate/edigate/translators/x12/omnibench

go 1.26.0

require (
	github.com/edigate/edigate v0.0.0
	github.com/jf-tech/omniparser v1.0.5
)

require (
	github.com/antchfx/xpath v1.1.11 // indirect
	github.com/dlclark/regexp2 v1.7.0 // indirect
	github.com/dop251/goja v0.0.0-20230812105242-81d76064690d // indirect
	github.com/go-sourcemap/sourcemap v2.1.3+incompatible // indirect
	github.com/google/pprof v0.0.0-20230207041349-798e818bf904 // indirect
	github.com/google/uuid v1.1.2 // indirect
	github.com/hashicorp/golang-lru v0.5.4 // indirect
	github.com/jf-tech/go-corelib v0.0.14 // indirect
	github.com/tkuchiki/go-timezone v0.2.0 // indirect
	github.com/xeipuuv/gojsonpointer v0.0.0-20180127040702-4e3ac2762d5f // indirect
	github.com/xeipuuv/gojsonreference v0.0.0-20180127040603-bd5ef7bd5415 // indirect
	github.com/xeipuuv/gojsonschema v1.2.0 // indirect
	golang.org/x/net v0.62.0 // indirect
	golang.org/x/text v0.44.0 // indirect
)

replace github.com/edigate/edigate => ../../..
