import { createApp } from 'vue';
import 'element-plus/dist/index.css';
import './styles.css';
import App from './App.vue';
import { ApiError, setAuthProblemHandler } from './api/http';
import { installElementPlus } from './element';
import { i18n } from './i18n';
import { router } from './router';
import { forgetSession } from './session';

// A session that ended (401) sends the user to the login page; a pending one-time password to the
// password page. Both can happen on any call, so they are handled here once.
setAuthProblemHandler((error: ApiError) => {
  const current = router.currentRoute.value;
  if (error.status === 401) {
    forgetSession();
    if (!current.meta.public) void router.replace({ name: 'login', query: { redirect: current.fullPath } });
  } else if (current.name !== 'change-password') {
    void router.replace({ name: 'change-password' });
  }
});

const app = createApp(App);
installElementPlus(app);
app.use(i18n);
app.use(router);
app.mount('#app');
