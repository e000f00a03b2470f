/*
Copyright 2026 The Shortlink Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

// Command crisweep removes every pod sandbox (and so every container) from a CRI runtime, the
// way kubelet would: StopPodSandbox tears down the pod's network through CNI and its namespace,
// RemovePodSandbox removes its containers and state. The local node runs it on stop, after
// kubelet has stopped, so nothing is left for the unmount and cgroup sweep but what a crash left.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func main() {
	endpoint := flag.String("endpoint", "", "CRI socket path (required)")
	timeout := flag.Duration("timeout", 2*time.Minute, "give up after this long")
	flag.Parse()
	if err := run(*endpoint, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "crisweep:", err)
		os.Exit(1)
	}
}

func run(endpoint string, timeout time.Duration) error {
	if endpoint == "" {
		return errors.New("-endpoint is required")
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	conn, err := grpc.NewClient("unix://"+endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return fmt.Errorf("connect %s: %w", endpoint, err)
	}
	defer func() { _ = conn.Close() }() // after the calls have returned: nothing left to fail
	rt := runtimeapi.NewRuntimeServiceClient(conn)
	list, err := rt.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{})
	if err != nil {
		return fmt.Errorf("list sandboxes: %w", err)
	}
	var errs []error
	for _, sb := range list.GetItems() {
		if err := remove(ctx, rt, sb.GetId()); err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Printf("removed sandbox %s (%s/%s)\n", sb.GetId(), sb.GetMetadata().GetNamespace(), sb.GetMetadata().GetName())
	}
	return errors.Join(errs...)
}

func remove(ctx context.Context, rt runtimeapi.RuntimeServiceClient, id string) error {
	if _, err := rt.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: id}); err != nil {
		return fmt.Errorf("stop sandbox %s: %w", id, err)
	}
	if _, err := rt.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: id}); err != nil {
		return fmt.Errorf("remove sandbox %s: %w", id, err)
	}
	return nil
}
