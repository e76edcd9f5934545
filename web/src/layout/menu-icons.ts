// Menu icons are named by the server (module manifests) after @element-plus/icons-vue components.
// Only the names below are bundled (the full set would add ~250 kB to every page load); any other
// name shows the generic menu icon. Add a name here when a module's manifest starts using it.
import type { Component } from 'vue';
import {
  Bell, Calendar, Camera, ChatDotRound, ChatLineSquare, Collection, DataAnalysis, DataBoard, DataLine, Document, Files,
  Flag, Grid, House, Histogram, Location, MapLocation, Menu, Message, Notebook, OfficeBuilding, Phone, Pointer, Setting,
  Share, Star, Tickets, TrendCharts, User, UserFilled, Van, Warning,
} from '@element-plus/icons-vue';

const ICONS: Record<string, Component> = {
  Bell, Calendar, Camera, ChatDotRound, ChatLineSquare, Collection, DataAnalysis, DataBoard, DataLine, Document, Files,
  Flag, Grid, House, Histogram, Location, MapLocation, Menu, Message, Notebook, OfficeBuilding, Phone, Pointer, Setting,
  Share, Star, Tickets, TrendCharts, User, UserFilled, Van, Warning,
};

export function menuIcon(name: string | null): Component {
  return (name && ICONS[name]) || Menu;
}
