// Registers only the Element Plus components the app uses (tree-shaken, instead of the whole library).
// Templates are still type-checked through `element-plus/global`.
import type { App } from 'vue';
import {
  ElAlert, ElAside, ElBadge, ElBreadcrumb, ElBreadcrumbItem, ElButton, ElCheckbox, ElCheckboxGroup, ElConfigProvider, ElContainer,
  ElDatePicker, ElDescriptions, ElDescriptionsItem, ElDialog, ElDrawer, ElDropdown, ElDropdownItem, ElDropdownMenu,
  ElEmpty, ElForm, ElFormItem, ElHeader, ElIcon, ElInput, ElInputNumber, ElLoading, ElMain, ElMenu, ElMenuItem,
  ElOption, ElPagination, ElRadio, ElRadioButton, ElRadioGroup, ElResult, ElScrollbar, ElSelect, ElSkeleton, ElSwitch,
  ElTabPane, ElTable, ElTableColumn, ElTabs, ElTag, ElText, ElTimeline, ElTimelineItem, ElTooltip, ElTree,
} from 'element-plus';

const COMPONENTS = [
  ElAlert, ElAside, ElBadge, ElBreadcrumb, ElBreadcrumbItem, ElButton, ElCheckbox, ElCheckboxGroup, ElConfigProvider, ElContainer,
  ElDatePicker, ElDescriptions, ElDescriptionsItem, ElDialog, ElDrawer, ElDropdown, ElDropdownItem, ElDropdownMenu,
  ElEmpty, ElForm, ElFormItem, ElHeader, ElIcon, ElInput, ElInputNumber, ElMain, ElMenu, ElMenuItem,
  ElOption, ElPagination, ElRadio, ElRadioButton, ElRadioGroup, ElResult, ElScrollbar, ElSelect, ElSkeleton, ElSwitch,
  ElTabPane, ElTable, ElTableColumn, ElTabs, ElTag, ElText, ElTimeline, ElTimelineItem, ElTooltip, ElTree,
];

export function installElementPlus(app: App) {
  // Register by name: sub-components (ElRadioGroup, ElOption, ElTableColumn…) have a no-op install.
  for (const component of COMPONENTS) if (component.name) app.component(component.name, component);
  app.use(ElLoading);
}
