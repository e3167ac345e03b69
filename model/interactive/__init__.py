"""Sessions over `infer`: the interview (`Interview`) and the notebook explorer."""
