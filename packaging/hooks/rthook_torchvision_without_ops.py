"""PyInstaller runtime hook of the CPU-only bundle (``packaging/build-standalone.sh --cpu``).

The only torchvision 0.28.0 (the release that pairs with torch 2.13.0+cpu) on our package indexes is
the CUDA build: its C++ ops library (``torchvision/_C.so``: nms, roi_align, deform_conv2d...) links
libtorch_cuda and cannot load beside CPU torch, and torchvision 0.28 then fails on import
(``operator torchvision::nms does not exist``: its fake-tensor registrations need the ops declared).
Affectscope uses only torchvision's Python model definitions (ResNet, VGG), never those ops, so the
spec leaves ``_C.so`` out and this hook declares the ops' schemas (no kernels) just before torchvision
is first imported. Calling one of the ops then fails with torchvision's own "Couldn't load custom C++
ops" message. With torch's own CPU torchvision wheel (download.pytorch.org) the spec does not add it.
"""

import sys

# torch._C._jit_get_schemas_for_operator over torchvision 0.29.1's ops (the same set as 0.28.0's).
_SCHEMAS = (
    "_cuda_version() -> int",
    "_deform_conv2d_backward(Tensor grad, Tensor input, Tensor weight, Tensor offset, Tensor mask, "
    "Tensor bias, SymInt stride_h, SymInt stride_w, SymInt pad_h, SymInt pad_w, SymInt dilation_h, "
    "SymInt dilation_w, SymInt groups, SymInt offset_groups, bool use_mask) "
    "-> (Tensor, Tensor, Tensor, Tensor, Tensor)",
    "_ps_roi_align_backward(Tensor grad, Tensor rois, Tensor channel_mapping, float spatial_scale, "
    "SymInt pooled_height, SymInt pooled_width, int sampling_ratio, SymInt batch_size, SymInt channels, "
    "SymInt height, SymInt width) -> Tensor",
    "_ps_roi_pool_backward(Tensor grad, Tensor rois, Tensor channel_mapping, float spatial_scale, "
    "SymInt pooled_height, SymInt pooled_width, SymInt batch_size, SymInt channels, SymInt height, "
    "SymInt width) -> Tensor",
    "_roi_align_backward(Tensor grad, Tensor rois, float spatial_scale, SymInt pooled_height, "
    "SymInt pooled_width, SymInt batch_size, SymInt channels, SymInt height, SymInt width, "
    "int sampling_ratio, bool aligned) -> Tensor",
    "_roi_pool_backward(Tensor grad, Tensor rois, Tensor argmax, float spatial_scale, "
    "SymInt pooled_height, SymInt pooled_width, SymInt batch_size, SymInt channels, SymInt height, "
    "SymInt width) -> Tensor",
    "box_iou_rotated(Tensor boxes1, Tensor boxes2) -> Tensor",
    "deform_conv2d(Tensor input, Tensor weight, Tensor offset, Tensor mask, Tensor bias, SymInt stride_h, "
    "SymInt stride_w, SymInt pad_h, SymInt pad_w, SymInt dilation_h, SymInt dilation_w, SymInt groups, "
    "SymInt offset_groups, bool use_mask) -> Tensor",
    "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "ps_roi_align(Tensor input, Tensor rois, float spatial_scale, SymInt pooled_height, "
    "SymInt pooled_width, int sampling_ratio) -> (Tensor, Tensor)",
    "ps_roi_pool(Tensor input, Tensor rois, float spatial_scale, SymInt pooled_height, "
    "SymInt pooled_width) -> (Tensor, Tensor)",
    "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qroi_align(Tensor input, Tensor rois, float input_scale, int input_zero_point, float rois_scale, "
    "int rois_zero_point, float spatial_scale, SymInt pooled_height, SymInt pooled_width, "
    "int sampling_ratio, bool aligned) -> Tensor",
    "roi_align(Tensor input, Tensor rois, float spatial_scale, SymInt pooled_height, SymInt pooled_width, "
    "int sampling_ratio, bool aligned) -> Tensor",
    "roi_pool(Tensor input, Tensor rois, float spatial_scale, SymInt pooled_height, "
    "SymInt pooled_width) -> (Tensor, Tensor)",
)
_LIBRARIES = []  # a torch.library.Library that is collected takes its definitions with it


class _DeclareTorchvisionOps:
    """A meta-path finder that finds nothing: on the first ``import torchvision`` it declares the ops
    (importing torch only then, so ``affectscope --help`` stays fast) and steps aside."""

    def find_spec(self, name, path=None, target=None):  # noqa: ANN001, ANN201
        if name != "torchvision":
            return None
        sys.meta_path.remove(self)
        import torch

        lib = torch.library.Library("torchvision", "DEF")
        for schema in _SCHEMAS:
            lib.define(schema)
        _LIBRARIES.append(lib)
        return None


sys.meta_path.insert(0, _DeclareTorchvisionOps())
