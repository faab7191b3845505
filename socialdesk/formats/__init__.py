"""Date formats of the desk's languages where Django's own do not suit it (see FORMAT_MODULE_PATH)."""
