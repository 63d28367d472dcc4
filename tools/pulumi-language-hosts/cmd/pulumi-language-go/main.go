// Command pulumi-language-go is motherduck-pulumi's own, minimal Pulumi language host for Go
// programs.
//
// Upstream's host (github.com/pulumi/pulumi/sdk/go/pulumi-language-go/v3) is not served by the
// Go module proxy reachable here. This one speaks the LanguageRuntime protocol for what the
// engine needs to run a program (`pulumi preview/up/refresh/destroy`): it builds the program
// with `go build` in the environment it was given (GOFLAGS, GOPROXY, GOMODCACHE... pass
// through, so a build that fetched its modules once runs offline afterwards), or takes the
// runtime option `binary` (a prebuilt program), and runs it with the PULUMI_* variables
// sdk/v3/go/pulumi reads. `buildTarget` says where the build goes (default: a temporary
// folder, removed after the run). Installing dependencies, code generation, packing and
// linking are not implemented.
package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"github.com/motherduck-pulumi/tools/pulumi-language-hosts/internal/langhost"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

func main() {
	langhost.Main(&host{})
}

type host struct {
	langhost.Base
}

// goBinary is `go` on PATH, else under GOROOT, else where the official tarball puts it.
func goBinary() (string, error) {
	if found, err := exec.LookPath("go"); err == nil {
		return found, nil
	}
	for _, candidate := range []string{
		filepath.Join(os.Getenv("GOROOT"), "bin", "go"), "/usr/local/go/bin/go",
	} {
		if _, err := os.Stat(candidate); err == nil {
			return candidate, nil
		}
	}
	return "", errors.New("go is not on PATH: install Go to run Go programs")
}

// build compiles the program in dir (entry: a package path relative to it) to target.
func (h *host) build(ctx context.Context, dir, entry, target string) error {
	goBin, err := goBinary()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", target, entry)
	cmd.Dir = dir
	cmd.Stdout = os.Stderr
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return errors.New("unable to run `go build`: " + err.Error())
	}
	return nil
}

func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	if h.EngineAddress == "" {
		return nil, errors.New("the engine address is unknown: call Handshake before Run")
	}
	if req.GetAttachDebugger() {
		return &pulumirpc.RunResponse{Error: "this language host does not support attaching a debugger"}, nil
	}
	info := req.GetInfo()
	dir := langhost.ProgramDir(req)
	binary, err := langhost.Option(info, "binary")
	if err != nil {
		return nil, err
	}
	buildTarget, err := langhost.Option(info, "buildTarget")
	if err != nil {
		return nil, err
	}
	program := ""
	if binary != "" {
		program = langhost.Abs(dir, binary)
	} else {
		target := buildTarget
		if target == "" {
			tmp, err := os.MkdirTemp("", "pulumi-go.")
			if err != nil {
				return nil, err
			}
			defer os.RemoveAll(tmp)
			target = filepath.Join(tmp, "program")
		}
		program = langhost.Abs(dir, target)
		entry := info.GetEntryPoint()
		if entry == "" {
			entry = "."
		} else if !filepath.IsAbs(entry) && entry != "." {
			entry = "./" + filepath.ToSlash(filepath.Clean(entry))
		}
		if err := h.build(ctx, dir, entry, program); err != nil {
			return &pulumirpc.RunResponse{Error: err.Error()}, nil
		}
	}

	env, err := langhost.ConfigEnv(req)
	if err != nil {
		return nil, err
	}
	env = append(os.Environ(), env...)
	set := func(name, value string) {
		if value != "" {
			env = append(env, name+"="+value)
		}
	}
	set("PULUMI_MONITOR", req.GetMonitorAddress())
	set("PULUMI_ENGINE", h.EngineAddress)
	set("PULUMI_ORGANIZATION", req.GetOrganization())
	set("PULUMI_PROJECT", req.GetProject())
	set("PULUMI_ROOT_DIRECTORY", info.GetRootDirectory())
	set("PULUMI_STACK", req.GetStack())
	set("PULUMI_DRY_RUN", strconv.FormatBool(req.GetDryRun()))
	set("PULUMI_PARALLEL", strconv.Itoa(int(req.GetParallel())))
	set("PULUMI_TRACING", h.Tracing)

	cmd := exec.Command(program, req.GetArgs()...)
	cmd.Dir = req.GetPwd()
	if cmd.Dir == "" {
		cmd.Dir = dir
	}
	cmd.Env = env
	return h.Execute(ctx, cmd), nil
}

// About names the go the programs are built with.
func (h *host) About(ctx context.Context, _ *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	goBin, err := goBinary()
	if err != nil {
		return nil, err
	}
	out, err := exec.CommandContext(ctx, goBin, "env", "GOVERSION").Output()
	if err != nil {
		return nil, err
	}
	return &pulumirpc.AboutResponse{Executable: goBin, Version: string(out)}, nil
}
