// The reference renderer in a loop, for bench/helm/run: compiled together
// with the reference's own chart.go, values.go, render.go and main.go (its
// main renamed by run, nothing else changed), it runs the reference's
// run() N times in one process, each time loading the chart and values
// from disk, exactly as one `helm-oracle template` does.
//
//   oracle-loop N template [RELEASE] CHARTDIR [flags...]
//
// Prints the first render on stdout and the seconds for all N on stderr.
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

func main() {
	if len(os.Args) < 4 || os.Args[2] != "template" {
		fmt.Fprintln(os.Stderr, "usage: oracle-loop N template [RELEASE] CHARTDIR [flags...]")
		os.Exit(2)
	}
	n, err := strconv.Atoi(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	o := parseArgs(os.Args[3:])
	var first string
	start := time.Now()
	for i := 0; i < n; i++ {
		out, err := run(o)
		if err != nil {
			fmt.Fprintf(os.Stderr, "Error: %v\n", err)
			os.Exit(1)
		}
		if i == 0 {
			first = out
		}
	}
	elapsed := time.Since(start).Seconds()
	fmt.Print(first)
	fmt.Fprintf(os.Stderr, "%f\n", elapsed)
}
