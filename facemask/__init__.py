"""facemask: face-mask detection with YOLOv5, from public datasets to a web demo.

The top-level scripts (prepare_data.py, train.py, val.py, detect.py, app.py) are thin command-line
fronts; the logic lives in the modules of this package so that scripts, tests and the app share it.
"""

__version__ = "0.1.0"
