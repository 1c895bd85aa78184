"""The canonical sparse linear model (:mod:`.sparse`) and the rows every assignment model
shares (:mod:`.assignment`). Objectives write their models with these; backends solve them."""
