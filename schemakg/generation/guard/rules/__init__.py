"""The repair rules, one module each; ``repair.RULES`` applies them in order."""
