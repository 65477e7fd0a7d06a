// package-spec-check validates an Elastic package (a directory or a .zip) with Elastic's own
// package-spec validator, the library `elastic-package lint` and `check` call. It is a thin shell
// around that library and adds no checks of its own: cryptochannel cannot install elastic-package
// (see docs/engines.md, "Validating the Fleet package"), so it builds this instead.
//
// Like elastic-package, it honours the package's own validation.yml (package-spec's mechanism for
// excluding coded checks, each exclusion written in the package for its reviewers) through
// package-spec's own filter; every finding it excludes is still printed, on stderr.
//
// Usage: package-spec-check <package dir or .zip>
// Exit 0 and prints "ok" when the package is valid; exit 1 and prints one validation error per
// line when it is not; exit 2 on a usage error (wrong arguments, path missing).
package main

import (
	"archive/zip"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/elastic/package-spec/v3/code/go/pkg/specerrors"
	"github.com/elastic/package-spec/v3/code/go/pkg/validator"
)

func main() {
	if len(os.Args) != 2 || strings.HasPrefix(os.Args[1], "-") {
		fmt.Fprintln(os.Stderr, "usage: package-spec-check <package dir or .zip>")
		os.Exit(2)
	}
	target := os.Args[1]
	if _, err := os.Stat(target); err != nil {
		fmt.Fprintf(os.Stderr, "package-spec-check: %v\n", err)
		os.Exit(2)
	}

	var err error
	if strings.HasSuffix(strings.ToLower(target), ".zip") {
		err = validator.ValidateFromZip(target)
	} else {
		err = validator.ValidateFromPath(target)
	}
	if err == nil {
		fmt.Println("ok")
		return
	}

	// The validator joins its errors into one numbered, multi-line message; print them one a
	// line instead so that callers can parse them. A message spanning lines is joined with spaces.
	var verrs specerrors.ValidationErrors
	if errors.As(err, &verrs) {
		remaining, ferr := applyValidationConfig(target, verrs)
		if ferr != nil {
			fmt.Fprintf(os.Stderr, "package-spec-check: %v\n", ferr)
			os.Exit(2)
		}
		if len(remaining) == 0 {
			fmt.Println("ok")
			return
		}
		for _, e := range remaining {
			fmt.Println(oneLine(e.Error()))
		}
	} else {
		// Failures before the spec runs (no manifest, unreadable format_version, a bad zip).
		fmt.Println(oneLine(err.Error()))
	}
	os.Exit(1)
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// packageFS is the package's files: the folder, or the one folder at the root of the zip.
func packageFS(target string) (fs.FS, func(), error) {
	if !strings.HasSuffix(strings.ToLower(target), ".zip") {
		return os.DirFS(target), func() {}, nil
	}
	r, err := zip.OpenReader(target)
	if err != nil {
		return nil, nil, err
	}
	dirs, err := fs.ReadDir(r, ".")
	if err != nil || len(dirs) != 1 {
		r.Close()
		return nil, nil, fmt.Errorf("%s: expected one folder at the root of the zip", target)
	}
	sub, err := fs.Sub(r, dirs[0].Name())
	if err != nil {
		r.Close()
		return nil, nil, err
	}
	return sub, func() { r.Close() }, nil
}

// applyValidationConfig drops the findings the package's validation.yml excludes, with
// package-spec's own filter, and reports each dropped one on stderr.
func applyValidationConfig(target string, verrs specerrors.ValidationErrors) (specerrors.ValidationErrors, error) {
	fsys, done, err := packageFS(target)
	if err != nil {
		return nil, err
	}
	defer done()
	config, err := specerrors.LoadConfigFilter(fsys)
	if errors.Is(err, fs.ErrNotExist) {
		return verrs, nil
	}
	if err != nil {
		return nil, err
	}
	result, err := specerrors.NewFilter(config).Run(verrs)
	if err != nil {
		return nil, err
	}
	var removed specerrors.ValidationErrors
	if errors.As(result.Removed, &removed) {
		for _, e := range removed {
			fmt.Fprintf(os.Stderr, "excluded by validation.yml: %s\n", oneLine(e.Error()))
		}
	}
	var remaining specerrors.ValidationErrors
	if result.Processed != nil && !errors.As(result.Processed, &remaining) {
		return nil, result.Processed
	}
	return remaining, nil
}
