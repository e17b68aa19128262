package web

// HashToken is hashToken, for the tests.
var HashToken = hashToken
