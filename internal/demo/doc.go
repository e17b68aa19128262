// Package demo holds the end-to-end test of 'make demo' and 'make
// demo-down' (scripts/demo.sh, scripts/demo-down.sh): the demo's server
// answers, its one-time link signs the primary administrator in, and
// demo-down stops it. It has no code of its own.
package demo
