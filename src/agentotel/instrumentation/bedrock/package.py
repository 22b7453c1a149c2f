_instruments = ("botocore >= 1.34.116, < 2",)
