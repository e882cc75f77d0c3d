module github.com/tailor/tailor

go 1.26.8
