// Command pulumi-language-nodejs is motherduck-pulumi's own, minimal Pulumi language host for
// Node.js and TypeScript programs.
//
// Upstream's host (github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3) is not
// served by the Go module proxy reachable here. This one speaks the LanguageRuntime protocol
// for what the engine needs to run a program (`pulumi preview/up/refresh/destroy`): it runs
// `node [nodeargs] <@pulumi/pulumi>/cmd/run <flags> <entry point>` with the program's own
// @pulumi/pulumi (found in the node_modules folders above the program), which loads
// TypeScript through the ts-node that @pulumi/pulumi bundles. Runtime options: `typescript`
// (default true), `tsconfig`, `nodeargs`. Installing dependencies, code generation, packing and
// linking are not implemented: install node_modules yourself.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/motherduck-pulumi/tools/pulumi-language-hosts/internal/langhost"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

func main() {
	langhost.Main(&host{})
}

type host struct {
	langhost.Base
}

// runScript is @pulumi/pulumi's cmd/run in the nearest node_modules at or above dir.
func runScript(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		candidate := filepath.Join(d, "node_modules", "@pulumi", "pulumi", "cmd", "run")
		if _, err := os.Stat(filepath.Join(candidate, "index.js")); err == nil {
			return candidate, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no @pulumi/pulumi in node_modules at or above %s: install the "+
				"program's dependencies (npm install)", dir)
		}
	}
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
	script, err := runScript(dir)
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return &pulumirpc.RunResponse{Error: "node is not on PATH: install Node.js"}, nil
	}
	typescript, err := langhost.Option(info, "typescript")
	if err != nil {
		return nil, err
	}
	tsconfig, err := langhost.Option(info, "tsconfig")
	if err != nil {
		return nil, err
	}
	nodeargs, err := langhost.Option(info, "nodeargs")
	if err != nil {
		return nil, err
	}

	args := append(strings.Fields(nodeargs), script)
	add := func(name, value string) {
		if value != "" {
			args = append(args, "--"+name+"="+value)
		}
	}
	add("monitor", req.GetMonitorAddress())
	add("engine", h.EngineAddress)
	add("organization", req.GetOrganization())
	add("project", req.GetProject())
	add("root-directory", info.GetRootDirectory())
	add("stack", req.GetStack())
	add("pwd", req.GetPwd())
	add("parallel", strconv.Itoa(int(req.GetParallel())))
	add("tracing", h.Tracing)
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	entry := info.GetEntryPoint()
	if entry == "" {
		entry = "."
	}
	args = append(append(args, entry), req.GetArgs()...)

	env, err := langhost.ConfigEnv(req)
	if err != nil {
		return nil, err
	}
	env = append(os.Environ(), env...)
	env = append(env, "PULUMI_NODEJS_TYPESCRIPT="+strconv.FormatBool(typescript != "false"))
	if tsconfig != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+tsconfig)
	}
	cmd := exec.Command(node, args...)
	cmd.Dir = dir
	cmd.Env = env
	return h.Execute(ctx, cmd), nil
}

// About names the node the program runs with.
func (h *host) About(ctx context.Context, _ *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, errors.New("node is not on PATH")
	}
	out, err := exec.CommandContext(ctx, node, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("node --version: %w", err)
	}
	return &pulumirpc.AboutResponse{
		Executable: node,
		Version:    strings.TrimPrefix(strings.TrimSpace(string(out)), "v"),
	}, nil
}
