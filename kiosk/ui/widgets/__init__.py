"""Small widgets the screens are built from, each with its stylesheet beside it."""
