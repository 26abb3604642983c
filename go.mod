module github.com/edigate/edigate

go 1.26
