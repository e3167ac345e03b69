"""Learning the numbers from case data: EM with an exact E-step (`fit`), and recovery on a
world whose numbers are known (`recovery`)."""
