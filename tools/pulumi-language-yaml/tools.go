//go:build tools

// Package tools pins the Pulumi YAML language host that tests/e2e builds on demand
// (tools/pulumi_yaml.py), so that `go mod tidy` keeps its dependencies in go.sum.
package tools

import (
	_ "github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml"
)
