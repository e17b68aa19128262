// Package testorg is the test organization that the tests of several
// packages share: acme's users (one administrator of every actor kind of
// docs/REFERENCE.md §3, Who may do what, and the users the tests change),
// the external organizations they come from, and the helpers that make the
// tenant and import a sheet into it through the importer. Tests only.
package testorg

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ccbulk/ccbulk/importer"
	"github.com/ccbulk/ccbulk/internal/pgimporter"
	"github.com/ccbulk/ccbulk/internal/store"
	"github.com/ccbulk/ccbulk/schema"
)

// Primary is acme's primary administrator.
const Primary = "marie.dubois@acme.example"

// Header is the template's header row, with its line break.
const Header = "Email,First Name,Last Name,Display Name,Username,PBX,Status,Home Organization,Contact Center Premium,Contact Center Standard,Full Administrator,Contact Center Service Administrator,Read-only Administrator,CC Role,Send Activation Email\n"

// Users is the sheet of acme's users besides its primary administrator.
const Users = Header + `jean.martin@acme.example,Jean,Martin,Jean Martin,jmartin,paris,Active,,FALSE,FALSE,TRUE,FALSE,FALSE,,FALSE
tom.baker@northwind.example,Tom,Baker,Tom Baker (Northwind),tbaker,paris,Active,northwind,FALSE,FALSE,TRUE,FALSE,FALSE,,FALSE
olga.berg@contoso.example,Olga,Berg,Olga Berg (Contoso),oberg,paris,Active,contoso,FALSE,FALSE,TRUE,FALSE,FALSE,,FALSE
sophie.laurent@acme.example,Sophie,Laurent,Sophie Laurent,slaurent,paris,Active,,TRUE,FALSE,FALSE,TRUE,FALSE,Supervisors,FALSE
ana.silva@contoso.example,Ana,Silva,Ana Silva (Contoso),asilva,warsaw,Active,contoso,FALSE,FALSE,FALSE,TRUE,FALSE,,FALSE
pawel.kowalski@acme.example,Paweł,Kowalski,Paweł Kowalski,pkowalski,warsaw,Active,,FALSE,FALSE,FALSE,FALSE,TRUE,,FALSE
kasia.lis@northwind.example,Kasia,Lis,Kasia Lis (Northwind),klis,paris,Active,northwind,FALSE,FALSE,FALSE,FALSE,TRUE,,FALSE
nuno.costa@contoso.example,Nuno,Costa,Nuno Costa (Contoso),ncosta,warsaw,Active,contoso,FALSE,FALSE,FALSE,FALSE,TRUE,,FALSE
lea.girard@acme.example,Léa,Girard,Léa Girard,lgirard,paris,Active,,FALSE,TRUE,FALSE,FALSE,FALSE,,FALSE
noe.blanc@acme.example,Noé,Blanc,Noé Blanc,nblanc,paris,Active,,FALSE,TRUE,FALSE,FALSE,FALSE,,FALSE
ines.faure@acme.example,Inès,Faure,Inès Faure,ifaure,paris,Active,,FALSE,TRUE,FALSE,FALSE,FALSE,,FALSE
theo.roussel@acme.example,Théo,Roussel,Théo Roussel,troussel,paris,Active,,FALSE,TRUE,FALSE,FALSE,FALSE,,FALSE
adam.lemaire@acme.example,Adam,Lemaire,Adam Lemaire,alemaire,paris,Active,,FALSE,TRUE,FALSE,FALSE,FALSE,,FALSE
lina.perrin@acme.example,Lina,Perrin,Lina Perrin,lperrin,paris,Active,,FALSE,TRUE,FALSE,FALSE,FALSE,,FALSE
yanis.morel@acme.example,Yanis,Morel,Yanis Morel,ymorel,paris,Active,,FALSE,FALSE,FALSE,FALSE,FALSE,,FALSE
emma.fournier@acme.example,Emma,Fournier,Emma Fournier,efournier,paris,Active,,FALSE,FALSE,FALSE,TRUE,FALSE,,FALSE
template.supervisor@acme.example,Template,Supervisor,Supervisor template,tsupervisor,paris,Inactive,,FALSE,FALSE,FALSE,TRUE,FALSE,Supervisors,FALSE
gabriel.robin@acme.example,Gabriel,Robin,Gabriel Robin,grobin,paris,Active,,FALSE,FALSE,FALSE,FALSE,FALSE,,FALSE
manon.henry@acme.example,Manon,Henry,Manon Henry,mhenry,paris,Active,,FALSE,TRUE,FALSE,FALSE,FALSE,,FALSE
louis.garnier@acme.example,Louis,Garnier,Louis Garnier,lgarnier,warsaw,Active,,FALSE,FALSE,FALSE,FALSE,FALSE,,FALSE
clara.bonnet@acme.example,Clara,Bonnet,Clara Bonnet,cbonnet,warsaw,Active,,FALSE,TRUE,FALSE,FALSE,FALSE,,FALSE
hugo.moreau@acme.example,Hugo,Moreau,Hugo Moreau,hmoreau,paris,Active,,FALSE,FALSE,FALSE,FALSE,FALSE,,FALSE
alice.mercier@acme.example,Alice,Mercier,Alice Mercier,amercier,paris,Active,,FALSE,FALSE,FALSE,TRUE,FALSE,,FALSE
rui.alves@contoso.example,Rui,Alves,Rui Alves (Contoso),ralves,warsaw,Active,contoso,FALSE,FALSE,FALSE,FALSE,FALSE,,FALSE
diego.ruiz@contoso.example,Diego,Ruiz,Diego Ruiz (Contoso),druiz,warsaw,Active,contoso,FALSE,FALSE,FALSE,TRUE,FALSE,,FALSE
paul.david@acme.example,Paul,David,Paul David,pdavid,paris,Active,,FALSE,FALSE,FALSE,FALSE,FALSE,,FALSE
julien.lambert@acme.example,Julien,Lambert,Julien Lambert,jlambert,paris,Active,,FALSE,FALSE,TRUE,FALSE,FALSE,,FALSE
zoe.martinez@acme.example,Zoé,Martinez,Zoé Martinez,zmartinez,warsaw,Active,,FALSE,FALSE,FALSE,FALSE,FALSE,,FALSE
victor.roche@acme.example,Victor,Roche,Victor Roche,vroche,warsaw,Active,,FALSE,FALSE,FALSE,FALSE,TRUE,,FALSE
`

// UsersOf is the sheet (Header first) of those of Users with the given
// emails, in Users' order.
func UsersOf(emails ...string) string {
	want := make(map[string]bool, len(emails))
	for _, e := range emails {
		want[e] = true
	}
	var b strings.Builder
	b.WriteString(Header)
	for _, line := range strings.SplitAfter(strings.TrimPrefix(Users, Header), "\n") {
		if email, _, ok := strings.Cut(line, ","); ok && want[email] {
			b.WriteString(line)
		}
	}
	return b.String()
}

// Externals are the external organizations acme's users come from:
// northwind (a partner), contoso (other) and fabrikam (other, with its own
// contact center).
var Externals = []schema.ExternalOrg{
	{ID: "northwind", Name: "Northwind Partners", Kind: schema.KindPartner},
	{ID: "contoso", Name: "Contoso Consulting", Kind: schema.KindOther},
	{ID: "fabrikam", Name: "Fabrikam Contact Services", Kind: schema.KindOther, CCEnabled: true},
}

// Register registers external organizations.
func Register(t testing.TB, db *store.DB, externals ...schema.ExternalOrg) {
	t.Helper()
	for _, e := range externals {
		if err := db.Admin().ExternalCreate(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
}

// Tenant creates the tenant id, named Acme Assurances, with Primary as its
// primary administrator, the PBXes paris and warsaw, the seats given (-1:
// no limit) and the CC role Supervisors, and imports users (a sheet with
// its header) into it as Primary, none of them rejected.
func Tenant(t testing.TB, db *store.DB, id string, premium, standard int, users string) {
	t.Helper()
	ctx := context.Background()
	org := schema.Org{ID: id, Name: "Acme Assurances", PBXes: []string{"paris", "warsaw"}, PremiumSeats: premium, StandardSeats: standard, PrimaryAdmin: Primary}
	if err := db.Admin().OrgCreate(ctx, org); err != nil {
		t.Fatal(err)
	}
	if err := db.Admin().RoleCreate(ctx, id, schema.CCRole{Name: "Supervisors", Permissions: []string{"view", "write"}}); err != nil {
		t.Fatal(err)
	}
	res, err := Import(t, db, id, Primary, users, nil)
	if err != nil || res.Rejected != 0 {
		t.Fatalf("seeding the tenant %s: %v %+v", id, err, res.Findings)
	}
}

// Import imports a CSV sheet into org as actor, as a real run unless opts
// says otherwise. The sheet and its report go to the test's temporary
// directory.
func Import(t testing.TB, db *store.DB, org, actor, csv string, opts func(*importer.Options)) (importer.Result, error) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "users.csv")
	if err := os.WriteFile(path, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	o := importer.Options{File: path, Org: org, Actor: actor, Report: filepath.Join(dir, "report.jsonl")}
	if opts != nil {
		opts(&o)
	}
	return importer.Import(context.Background(), pgimporter.New(db), o)
}
