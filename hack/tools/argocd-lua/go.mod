// Test infrastructure only: an Argo CD-like runner for health scripts (gopher-lua, Argo CD's library set),
// built on demand by test/support/argocd-lua.ts.
module vnf-operator.io/hack/tools/argocd-lua

go 1.24

require github.com/yuin/gopher-lua v1.1.1
