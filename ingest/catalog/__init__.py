"""Records in, rejections out: readers, field mapping, the product schema, normalisation, language, validation, dead letters."""
