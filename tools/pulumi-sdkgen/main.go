// Command pulumi-sdkgen writes a Pulumi package's SDK for one language from its schema, with
// Pulumi's own code generators: the calls `pulumi package gen-sdk` makes inside the Node.js, Go
// and Python language hosts (their GeneratePackage RPC), made here in one small program because
// the Go module proxy does not serve those hosts' modules.
//
//	pulumi-sdkgen -schema schema.json -language nodejs|go|python -out DIR [-local]
//
// The schema may not reference other packages: nothing here can load them.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/blang/semver"
	gogen "github.com/pulumi/pulumi/pkg/v3/codegen/go"
	"github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	"github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

// noLoader refuses every other package: ours depends on none.
type noLoader struct{}

var errNoLoad = errors.New("pulumi-sdkgen cannot load other packages' schemas")

func (noLoader) LoadPackage(string, *semver.Version) (*schema.Package, error) {
	return nil, errNoLoad
}

func (noLoader) LoadPackageV2(context.Context, *schema.PackageDescriptor) (*schema.Package, error) {
	return nil, errNoLoad
}

func (noLoader) LoadPackageReference(string, *semver.Version) (schema.PackageReference, error) {
	return nil, errNoLoad
}

func (noLoader) LoadPackageReferenceV2(
	context.Context, *schema.PackageDescriptor,
) (schema.PackageReference, error) {
	return nil, errNoLoad
}

func generate(language string, pkg *schema.Package, local bool) (map[string][]byte, error) {
	tool := "pulumi-language-" + language // as gen-sdk names the generator in file headers
	switch language {
	case "nodejs":
		return nodejs.GeneratePackage(tool, pkg, map[string][]byte{}, nil, local, noLoader{})
	case "go":
		return gogen.GeneratePackage(tool, pkg, nil)
	case "python":
		return python.GeneratePackage(tool, pkg, map[string][]byte{}, noLoader{})
	}
	return nil, fmt.Errorf("unknown language %q (nodejs, go or python)", language)
}

func run() error {
	schemaPath := flag.String("schema", "", "the package schema (JSON)")
	language := flag.String("language", "", "nodejs, go or python")
	out := flag.String("out", "", "the directory to write the SDK to (replaced)")
	local := flag.Bool("local", false, "generate for use from a local path (nodejs: no version)")
	flag.Parse()
	if *schemaPath == "" || *language == "" || *out == "" {
		flag.Usage()
		return errors.New("-schema, -language and -out are required")
	}

	data, err := os.ReadFile(*schemaPath)
	if err != nil {
		return err
	}
	var spec schema.PackageSpec
	if err := json.Unmarshal(data, &spec); err != nil {
		return fmt.Errorf("%s: %w", *schemaPath, err)
	}
	pkg, diags, err := schema.BindSpec(spec, noLoader{}, schema.ValidationOptions{})
	if err != nil {
		return err
	}
	if diags.HasErrors() {
		return fmt.Errorf("%s is not a valid schema: %w", *schemaPath, diags)
	}
	files, err := generate(*language, pkg, *local)
	if err != nil {
		return err
	}

	if err := os.RemoveAll(*out); err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		path := filepath.Join(*out, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, files[name], 0o644); err != nil {
			return err
		}
	}
	return nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "pulumi-sdkgen:", err)
		os.Exit(1)
	}
}
