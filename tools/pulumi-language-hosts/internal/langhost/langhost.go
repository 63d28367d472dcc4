// Package langhost holds what motherduck-pulumi's Node.js and Go language hosts share: serving
// the LanguageRuntime gRPC service the way the engine expects (the port on the first stdout
// line, exit when the engine goes away), the engine address, cancellation, and turning a
// program's exit into the engine's RunResponse.
package langhost

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// ExitUserActionable is the exit code Pulumi's SDKs use after they printed an actionable
// error themselves: the engine bails without adding a message of its own.
const ExitUserActionable = 32

// Base implements the parts of pulumirpc.LanguageRuntimeServer both hosts answer alike.
type Base struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	EngineAddress string
	Tracing       string

	cancelCtx  context.Context // cancelled by the Cancel RPC
	cancelFunc context.CancelFunc
}

// Server is a language host: Base's methods plus the language's own.
type Server interface {
	pulumirpc.LanguageRuntimeServer
	base() *Base
}

func (b *Base) base() *Base { return b }

// Main parses the engine's flags, serves host and prints its port; it never returns on error.
func Main(host Server) {
	flag.StringVar(&host.base().Tracing, "tracing", "", "Zipkin-compatible tracing endpoint")
	showVersion := flag.Bool("version", false, "print the plugin version and exit")
	flag.Parse()
	if *showVersion {
		fmt.Println(version.Version)
		return
	}
	logging.InitLogging(false, 0, false)

	b := host.base()
	b.cancelCtx, b.cancelFunc = context.WithCancel(context.Background())
	// The engine passes its own address as the last positional argument.
	if args := flag.Args(); len(args) > 0 {
		b.EngineAddress = args[len(args)-1]
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	cancelServe := make(chan bool)
	go func() {
		<-ctx.Done()
		close(cancelServe)
	}()
	if b.EngineAddress != "" {
		if err := rpcutil.Healthcheck(ctx, b.EngineAddress, 5*time.Minute, stop); err != nil {
			cmdutil.Exit(fmt.Errorf("starting engine health check: %w", err))
		}
	}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: cancelServe,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, host)
			return nil
		},
		Options: rpcutil.TracingServerInterceptorOptions(nil),
	})
	if err != nil {
		cmdutil.Exit(fmt.Errorf("starting language host gRPC server: %w", err))
	}
	// The spawning engine reads the port from our first stdout line.
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		cmdutil.Exit(fmt.Errorf("language host gRPC server stopped: %w", err))
	}
}

// GetRequiredPlugins reports none: the engine finds the providers a program uses by the
// packages its resources name (on PATH, in the plugin cache or `packages`).
func (b *Base) GetRequiredPlugins(context.Context, *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{Plugins: []*pulumirpc.PluginDependency{}}, nil
}

// GetRequiredPackages reports none, as GetRequiredPlugins.
func (b *Base) GetRequiredPackages(context.Context, *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{Packages: []*pulumirpc.PackageDependency{}}, nil
}

// GetPluginInfo reports the version stamped at build time.
func (b *Base) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version.Version}, nil
}

// Handshake records the engine address when the host was started without one.
func (b *Base) Handshake(_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	b.EngineAddress = req.GetEngineAddress()
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

// Cancel stops any running program.
func (b *Base) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	if b.cancelFunc != nil {
		b.cancelFunc()
	}
	return &emptypb.Empty{}, nil
}

// ConfigEnv is PULUMI_CONFIG and PULUMI_CONFIG_SECRET_KEYS for a run, as both SDKs read them.
func ConfigEnv(req *pulumirpc.RunRequest) ([]string, error) {
	config := req.GetConfig()
	if config == nil {
		config = map[string]string{}
	}
	keys := req.GetConfigSecretKeys()
	if keys == nil {
		keys = []string{}
	}
	configJSON, err := json.Marshal(config)
	if err != nil {
		return nil, fmt.Errorf("serializing configuration: %w", err)
	}
	keysJSON, err := json.Marshal(keys)
	if err != nil {
		return nil, fmt.Errorf("serializing secret configuration keys: %w", err)
	}
	return []string{"PULUMI_CONFIG=" + string(configJSON), "PULUMI_CONFIG_SECRET_KEYS=" + string(keysJSON)}, nil
}

// ProgramDir is where the program lives: ProgramInfo's program directory, else pwd.
func ProgramDir(req *pulumirpc.RunRequest) string {
	if dir := req.GetInfo().GetProgramDirectory(); dir != "" {
		return dir
	}
	return req.GetPwd()
}

// Option is a string runtime option of Pulumi.yaml (`runtime.options`), "" when unset.
func Option(info *pulumirpc.ProgramInfo, key string) (string, error) {
	if info.GetOptions() == nil {
		return "", nil
	}
	v, ok := info.GetOptions().AsMap()[key]
	if !ok || v == nil {
		return "", nil
	}
	switch s := v.(type) {
	case string:
		return s, nil
	case bool:
		return fmt.Sprint(s), nil
	}
	return "", fmt.Errorf("runtime option %q must be a string", key)
}

// Execute runs cmd to completion with the program's output on ours, stopped (interrupt, then
// kill) when ctx or the Cancel RPC ends, and maps its exit to a RunResponse.
func (b *Base) Execute(ctx context.Context, cmd *exec.Cmd) *pulumirpc.RunResponse {
	runCtx, runCancel := context.WithCancel(b.cancelCtx)
	defer runCancel()
	stopRun := context.AfterFunc(ctx, runCancel)
	defer stopRun()
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	logging.V(5).Infof("language host launching %v", cmd.Args)
	err := cmd.Start()
	if err == nil {
		finished := make(chan struct{})
		go func() {
			select {
			case <-finished:
			case <-runCtx.Done(): // interrupt, then kill what is still running 5 s later
				_ = cmd.Process.Signal(os.Interrupt)
				select {
				case <-finished:
				case <-time.After(5 * time.Second):
					_ = cmd.Process.Kill()
				}
			}
		}()
		err = cmd.Wait()
		close(finished)
	}
	_ = os.Stdout.Sync()
	_ = os.Stderr.Sync()
	if err == nil {
		return &pulumirpc.RunResponse{}
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		if exitErr.ExitCode() == ExitUserActionable {
			return &pulumirpc.RunResponse{Bail: true}
		}
		if exitErr.ExitCode() > 0 {
			return &pulumirpc.RunResponse{
				Error: fmt.Sprintf("program exited with non-zero exit code: %d", exitErr.ExitCode()),
			}
		}
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("program exited unexpectedly: %v", exitErr)}
	}
	return &pulumirpc.RunResponse{Error: fmt.Sprintf("problem executing program: %v", err)}
}

// Abs is path relative to dir unless already absolute.
func Abs(dir, path string) string {
	if filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(dir, path)
}
