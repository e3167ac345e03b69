"""How answers look: figures of one case, a sensitivity table and the network (`plots`),
and the HTML a notebook shows for a `Result` or a `BatchResult` (`display`)."""
