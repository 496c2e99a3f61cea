"""Pre-labels (prelabel.py): what the model finds on new photos, written in a labelling tool's format
(facemask.data.formats) so that a person corrects boxes instead of drawing them."""
