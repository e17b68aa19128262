package importer_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/ccbulk/ccbulk/importer"
	"github.com/ccbulk/ccbulk/internal/store"
	"github.com/ccbulk/ccbulk/internal/testdb"
	"github.com/ccbulk/ccbulk/schema"
)

const primary = "marie.dubois@acme.example"

// seedUsers are the users of the test tenant besides its primary
// administrator: one administrator of every actor kind of docs/REFERENCE.md §3, Who may do what, and the
// users the tests change.
const seedUsers = `Email,First Name,Last Name,Display Name,Username,PBX,Status,Home Organization,Contact Center Premium,Contact Center Standard,Full Administrator,Contact Center Service Administrator,Read-only Administrator,CC Role,Send Activation Email
jean.martin@acme.example,Jean,Martin,Jean Martin,jmartin,paris,Active,,FALSE,FALSE,TRUE,FALSE,FALSE,,FALSE
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

// newDB returns a fresh database with the external organizations northwind
// (partner), contoso (other) and fabrikam (other, with its own contact
// center) registered.
func newDB(t *testing.T) *sqlx.DB {
	t.Helper()
	db, _ := testdb.New(t)
	registerExternals(t, db)
	return db
}

func registerExternals(t *testing.T, db *sqlx.DB) {
	t.Helper()
	for _, e := range []schema.ExternalOrg{
		{ID: "northwind", Name: "Northwind Partners", Kind: schema.KindPartner},
		{ID: "contoso", Name: "Contoso Consulting", Kind: schema.KindOther},
		{ID: "fabrikam", Name: "Fabrikam Contact Services", Kind: schema.KindOther, CCEnabled: true},
	} {
		if err := store.CreateExternal(context.Background(), db, e); err != nil {
			t.Fatal(err)
		}
	}
}

// tenant is one organization of a test database.
type tenant struct {
	db  *sqlx.DB
	org string
}

// newAcme returns the tenant acme of a fresh database (see addTenant).
func newAcme(t *testing.T) tenant { return addTenant(t, newDB(t), "acme") }

// addTenant creates a tenant (PBXes paris and warsaw, no seat limits, the
// CC role Supervisors) holding seedUsers, in a database made by newDB.
func addTenant(t *testing.T, db *sqlx.DB, id string) tenant {
	t.Helper()
	return addTenantWithSeats(t, db, id, -1, -1)
}

// addTenantWithSeats is addTenant with seat limits (-1: no limit). seedUsers
// hold 1 Premium and 8 Standard seats.
func addTenantWithSeats(t *testing.T, db *sqlx.DB, id string, premium, standard int) tenant {
	t.Helper()
	ctx := context.Background()
	org := schema.Org{ID: id, Name: "Acme Assurances", PBXes: []string{"paris", "warsaw"}, PremiumSeats: premium, StandardSeats: standard, PrimaryAdmin: primary}
	if err := store.CreateOrg(ctx, db, org); err != nil {
		t.Fatal(err)
	}
	if err := store.CreateRole(ctx, db, id, "Supervisors", []string{"view", "write"}); err != nil {
		t.Fatal(err)
	}
	tn := tenant{db: db, org: id}
	res, err := tn.importSheet(t, primary, seedUsers, nil)
	if err != nil || res.Rejected != 0 {
		t.Fatalf("seeding the tenant: %v %+v", err, res.Findings)
	}
	return tn
}

// importSheet imports a CSV sheet as actor, as a real run unless opts says
// otherwise. The report goes to the test's temporary directory.
func (tn tenant) importSheet(t *testing.T, actor, csv string, opts func(*importer.Options)) (importer.Result, error) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "sheet.csv")
	if err := os.WriteFile(path, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	o := importer.Options{File: path, Org: tn.org, Actor: actor, Report: filepath.Join(dir, "report.jsonl")}
	if opts != nil {
		opts(&o)
	}
	return importer.Import(context.Background(), importer.Postgres(store.New(tn.db)), o)
}

// user returns a user of the tenant, or nil.
func (tn tenant) user(t *testing.T, email string) *schema.User {
	t.Helper()
	u, err := store.GetUser(context.Background(), tn.db, tn.org, email)
	if err != nil {
		return nil
	}
	return &u
}

// withoutVersions returns a CSV export without its Version column, to
// compare the users of two databases (their versions are the ids of the
// transactions that wrote them).
func withoutVersions(t *testing.T, export string) string {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewBufferString(export)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	w := csv.NewWriter(&out)
	for _, r := range recs {
		if len(r) != int(schema.NumColumns) || r[schema.ColVersion] == "" && r[0] != "" {
			t.Fatalf("export row %q has no Version", r)
		}
		if err := w.Write(r[:schema.ColVersion]); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	return out.String()
}
