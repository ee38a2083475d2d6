"""The sample corpus and the local web server that plays the publishers."""
