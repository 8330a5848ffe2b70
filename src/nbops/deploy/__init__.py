"""After the merge: models released, promoted by thresholds, served and scored."""
