# syntax=docker/dockerfile:1
# The face-mask web app (app.py) on CPU, with the shipped model and its int8 OpenVINO export.
#   docker build -t facemask .
#   docker run --rm --init -p 7860:7860 facemask                    # http://localhost:7860
#   docker run --rm --init -e PORT=8080 -p 8080:8080 facemask       # another port
FROM python:3.11.14-slim-bookworm

SHELL ["/bin/bash", "-o", "pipefail", "-c"]
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore
WORKDIR /app

# Dependencies first, so that a code change rebuilds only the layers below. torch comes as the CPU-only
# build from PyTorch's own index (no CUDA or triton wheels); requirements.txt's torch pins are then met.
# ultralytics requires the GUI build opencv-python, which needs libGL and Mesa (about 200 MB of Debian
# packages) that a server never uses, so it is swapped for the headless build of the same version (one
# cv2 either way); the import check fails the build
# if cv2 (or torch, ultralytics, openvino) cannot load without them.
COPY requirements.txt .
RUN pip install --no-cache-dir torch==2.14.1 torchvision==0.29.1 --index-url https://download.pytorch.org/whl/cpu \
 && pip install --no-cache-dir -r requirements.txt \
 && cv="$(pip show opencv-python | sed -n 's/^Version: //p')" \
 && pip uninstall -y opencv-python \
 && pip install --no-cache-dir --no-deps "opencv-python-headless==${cv}" \
 && python -c "import cv2, openvino, torch, ultralytics; assert not torch.cuda.is_available(); print(cv2.__version__, torch.__version__)"

# The app runs as user app (uid 1000, numeric so that Kubernetes' runAsNonRoot can check it) without root
# rights; the code and weights stay root's, read-only to it.
RUN groupadd --gid 1000 app && useradd --create-home --uid 1000 --gid 1000 app
COPY app.py ./
COPY facemask/ facemask/
COPY examples/ examples/
COPY weights/face_masks.pt weights/
COPY weights/face_masks_int8_openvino_model/ weights/face_masks_int8_openvino_model/
USER 1000:1000

# app.py's --host and --port; PORT can be set at `docker run -e PORT=...`.
ENV PORT=7860 \
    GRADIO_SERVER_NAME=0.0.0.0 \
    GRADIO_ANALYTICS_ENABLED=False
EXPOSE 7860
# Healthy once the Gradio server answers its API description (up in about 10 s on 2 CPU cores).
HEALTHCHECK --interval=30s --timeout=10s --start-period=90s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/gradio_api/info' % os.environ.get('PORT', '7860'), timeout=8)"]
CMD ["sh", "-c", "exec python app.py --host \"$GRADIO_SERVER_NAME\" --port \"$PORT\""]
