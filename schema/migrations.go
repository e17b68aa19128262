package schema

import "embed"

// Migrations holds the SQL migrations, named NNNN_description.sql and applied
// in name order, each once.
//
//go:embed migrations/*.sql
var Migrations embed.FS
