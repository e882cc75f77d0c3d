package main

import (
	"errors"
	"io"
)

func cmdValidate(args []string, stdout, stderr io.Writer) error { return errors.New("not yet") }
func cmdPush(args []string, stdout, stderr io.Writer) error     { return errors.New("not yet") }
func cmdRollback(args []string, stdout, stderr io.Writer) error { return errors.New("not yet") }
func cmdStats(args []string, stdout, stderr io.Writer) error    { return errors.New("not yet") }
